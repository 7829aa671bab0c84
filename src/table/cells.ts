/**
 * A stored row, shared by every adapter: each column's versions, newest first,
 * `{ "cf1:speed": [[ts, "120"], [ts, "95"]], … }`.
 */
import { UserError } from '../core/index.ts';
import type { Row, TableDescriptor } from './types.ts';

export type StoredRow = Record<string, [number, string][]>;

/** Per descriptor, the column names already found valid (a stream puts the same few names in every row). */
const validColumns = new WeakMap<TableDescriptor, Set<string>>();

export function checkColumns(desc: TableDescriptor, cells: Record<string, string>): void {
  let valid = validColumns.get(desc);
  if (!valid) validColumns.set(desc, (valid = new Set()));
  for (const col in cells) {
    if (valid.has(col)) continue;
    const fam = col.slice(0, col.indexOf(':'));
    if (col.indexOf(':') < 1 || !desc.families.includes(fam)) {
      throw new UserError(`column '${col}' is not family:qualifier of a family of ${desc.name} (families: ${desc.families.join(', ')})`);
    }
    if (valid.size < 10_000) valid.add(col);
  }
}

/** Adds the cells as new versions (the same value again is not a new version: replays are idempotent). */
export function mergeCells(desc: TableDescriptor, prev: StoredRow | undefined, cells: Record<string, string>, ts: number): StoredRow {
  const keep = desc.maxVersions ?? 1;
  if (!prev && keep >= 1) {
    // A new row (the stream's common case): one version per column, no copies.
    const row: StoredRow = {};
    for (const col in cells) row[col] = [[ts, String(cells[col])]];
    return row;
  }
  const next: StoredRow = { ...prev };
  for (const [col, value] of Object.entries(cells)) {
    const versions = next[col] ?? [];
    if (versions.length && versions[0][1] === value) continue;
    next[col] = [[ts, String(value)] as [number, string], ...versions].slice(0, keep);
  }
  return next;
}

export function toRow(row: string, v: StoredRow): Row {
  const cells: Record<string, string> = {};
  for (const [col, versions] of Object.entries(v)) if (versions.length) cells[col] = versions[0][1];
  return { row, cells };
}

export function withoutColumns(v: StoredRow, columns: string[]): StoredRow | undefined {
  const next = { ...v };
  for (const c of columns) delete next[c];
  return Object.keys(next).length ? next : undefined;
}

/**
 * The MessagePack bytes of a new row (every column one version, `{ col: [[ts, value]], … }`): what the
 * LMDB store's msgpack encoder would write for `mergeCells(desc, undefined, cells, ts)`, decoded by
 * the same readers into the same object, written without building that object first.
 * Returns the end position, or -1 when `out` is too small (then nothing after `pos` means anything).
 */
export function encodeNewRow(cells: Record<string, string>, ts: number, out: Buffer, pos: number): number {
  // Always a map16 header (valid MessagePack for any size), its count filled in after one pass.
  if (pos + 3 > out.length) return -1;
  const head = pos;
  out[pos++] = 0xde;
  pos += 2;
  let n = 0;
  F64[0] = ts;
  for (const col in cells) {
    if (++n > 0xffff || pos + 3 * col.length + 16 > out.length) return -1;
    pos = writeStr(col, out, pos);
    if (pos < 0) return -1;
    out[pos++] = 0x91;
    out[pos++] = 0x92;
    out[pos++] = 0xcb; // float64, big-endian
    if (LITTLE_ENDIAN) for (let i = 7; i >= 0; i--) out[pos++] = F64_BYTES[i];
    else for (let i = 0; i < 8; i++) out[pos++] = F64_BYTES[i];
    pos = writeStr(String(cells[col]), out, pos);
    if (pos < 0) return -1;
  }
  out[head + 1] = n >> 8;
  out[head + 2] = n & 0xff;
  return pos;
}

/** Scratch for a timestamp's float64 bytes, in the platform's order. */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
F64[0] = 2;
const LITTLE_ENDIAN = F64_BYTES[7] === 0x40;

/** A MessagePack str; short ASCII strings byte by byte (the common case), the rest through Buffer. */
function writeStr(s: string, out: Buffer, pos: number): number {
  const len = s.length;
  if (len < 32 && pos + 1 + len <= out.length) {
    let ascii = true;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      out[pos + 1 + i] = c;
    }
    if (ascii) {
      out[pos] = 0xa0 | len;
      return pos + 1 + len;
    }
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  if (pos + 5 + bytes > out.length) return -1;
  let head: number;
  if (bytes < 32) {
    out[pos] = 0xa0 | bytes;
    head = 1;
  } else if (bytes < 256) {
    out[pos] = 0xd9;
    out[pos + 1] = bytes;
    head = 2;
  } else if (bytes < 65_536) {
    out[pos] = 0xda;
    out.writeUInt16BE(bytes, pos + 1);
    head = 3;
  } else {
    out[pos] = 0xdb;
    out.writeUInt32BE(bytes, pos + 1);
    head = 5;
  }
  if (pos + head + bytes > out.length) return -1;
  out.write(s, pos + head, 'utf8');
  return pos + head + bytes;
}
