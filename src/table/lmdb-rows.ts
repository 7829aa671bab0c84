/**
 * How the LMDB store keeps a row (lmdb.ts). Two value forms, both MessagePack:
 *
 * - **compact**, every row the stream writes (each column one version, all with one stamp):
 *   `[ts, columnSet, value1, value2, …]`, an array of a float64 stamp, the uint32 hash of the row's column
 *   names, and the values in that order. The names are stored once per table and set, in the `__columns`
 *   database under `<table>/<hash>`, written in the same transaction as the first row that uses them.
 *   A driving row is 53 bytes this way against 242 as a full row (mean of 1,000 simulated rows): less to
 *   encode on the stream's main thread, less for the writer thread to put and commit (`npm run bench:stream`).
 * - **full**, any row with more than one version or stamp (a merge wrote it, or an earlier version):
 *   `{ "cf1:speed": [[ts, "120"], [ts, "95"]], … }`, cells.ts's StoredRow, written by lmdb-js's encoder.
 *
 * Two different column lists with the same hash cannot share a key: the writer finds the other list
 * stored there and leaves the batch to the main thread, which writes it as full rows.
 */
import { driverRowKey, type DrivingRecord } from '../core/index.ts';
import type { Row } from './types.ts';
import type { StoredRow } from './cells.ts';
import { DRIVER_CELLS, smallIntString } from './driver.ts';

/** A row's column names in order, and the hash that names them in its compact value. */
export interface ColumnSet { hash: number; columns: string[] }

/** A putMany's rows as the writer thread takes them (see encodeRows), and the column sets they name. */
export interface WriterJob { rows: ArrayBuffer; sets: ColumnSet[] }

/** A compact value as decoded: `[ts, hash, ...values]`. */
export type CompactRow = [number, number, ...string[]];

export const COLUMNS_DB = '__columns';
export const columnSetKey = (table: string, hash: number) => `${table}/${hash}`;

/** Column sets by their names joined with NUL (a table's rows use a handful). */
const sets = new Map<string, ColumnSet>();

/** The column set of these names: FNV-1a (32 bits) over the names, each ended by a NUL. */
export function columnSetOf(columns: string[]): ColumnSet {
  const joined = columns.join('\0');
  let set = sets.get(joined);
  if (set) return set;
  let h = 0x811c9dc5;
  for (let i = 0; i <= joined.length; i++) {
    h ^= i < joined.length ? joined.charCodeAt(i) : 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  set = { hash: h, columns };
  if (sets.size < 10_000) sets.set(joined, set);
  return set;
}

/** The row as the store's readers see it, from either value form; `columnsOf` resolves a compact row's hash. */
export function rowOf(key: string, v: StoredRow | CompactRow, columnsOf: (hash: number) => string[]): Row {
  const cells: Record<string, string> = {};
  if (Array.isArray(v)) {
    const cols = columnsOf(v[1]);
    for (let i = 0; i < cols.length; i++) cells[cols[i]] = v[i + 2] as string;
  } else {
    for (const col in v) if (v[col].length) cells[col] = v[col][0][1];
  }
  return { row: key, cells };
}

/** The full stored row of either value form. */
export function fullRowOf(v: StoredRow | CompactRow, columnsOf: (hash: number) => string[]): StoredRow {
  if (!Array.isArray(v)) return v;
  const cols = columnsOf(v[1]);
  const full: StoredRow = {};
  for (let i = 0; i < cols.length; i++) full[cols[i]] = [[v[0], v[i + 2] as string]];
  return full;
}

/**
 * A putMany's rows as the writer's job: `rows` = count:u32le, then per row keyLength:u16le key:utf8
 * valueLength:u32le value (the row's compact MessagePack), and the column sets the rows use.
 * `check` sees each column set once, before any row of it is encoded (it throws for a bad column).
 */
export function encodeRows(rows: { row: string; cells: Record<string, string> }[], timestamp: number, check: (columns: string[]) => void): WriterJob {
  let out = Buffer.from(new ArrayBuffer(Math.max(4096, rows.length * 96)));
  let pos = 4;
  // By identity, not hash: two sets sharing a hash in one batch both go to the writer, which then finds
  // the second unlike the first and leaves the batch to the full form.
  const used = new Set<ColumnSet>();
  let set: ColumnSet | undefined;
  for (let i = 0; i < rows.length; ) {
    const r = rows[i];
    const key = r.row;
    if (!set) {
      set = columnSetOf(Object.keys(r.cells));
      if (!used.has(set)) {
        check(set.columns);
        used.add(set);
      }
    }
    // Room for the key's worst case (3 bytes a UTF-16 unit) and the two lengths; the value checks its own.
    let end = TOO_SMALL;
    if (pos + 6 + 3 * key.length <= out.length) {
      const keyLength = out.write(key, pos + 2, 'utf8');
      if (keyLength > 0xffff) throw new Error(`row key longer than 65,535 bytes: '${key.slice(0, 40)}…'`);
      out.writeUInt16LE(keyLength, pos);
      const valueAt = pos + 2 + keyLength + 4;
      end = encodeCompact(r.cells, set, timestamp, out, valueAt);
      if (end >= 0) out.writeUInt32LE(end - valueAt, valueAt - 4);
    }
    if (end === OTHER_SET) {
      // This row has other columns than the one before: its own set, and the row again.
      set = undefined;
      continue;
    }
    if (end === TOO_SMALL) {
      out = grown(out, pos, pos + 64 + 3 * key.length + 4 * JSON.stringify(r.cells).length);
      continue;
    }
    pos = end;
    i++;
  }
  out.writeUInt32LE(rows.length, 0);
  return { rows: out.buffer, sets: [...used] };
}

const TOO_SMALL = -1;
const OTHER_SET = -2;

/** A job buffer of at least `size` bytes and twice `out`'s, holding `out`'s first `pos` bytes. */
function grown(out: Buffer<ArrayBuffer>, pos: number, size: number): Buffer<ArrayBuffer> {
  const bigger = Buffer.from(new ArrayBuffer(Math.max(out.length * 2, size)));
  out.copy(bigger, 0, 0, pos);
  return bigger;
}

/**
 * encodeRows for the stream's driving records (driver.ts DrivingRows), the same bytes (a test compares
 * them), without a row object, a cells object or a key string per record: the key's characters are
 * written straight from the record's date (reversed) and car number, the values from its fields.
 */
export function encodeDrivingRows(records: DrivingRecord[], timestamp: number, check: (columns: string[]) => void): WriterJob {
  const set = columnSetOf(DRIVER_CELLS as string[]);
  check(set.columns);
  // The value's head is the same for every row of the batch: [array16 of 10, float64 stamp, uint32 hash].
  const head = Buffer.alloc(17);
  writeCompactHead(set, timestamp, head, 0);
  let out = Buffer.from(new ArrayBuffer(Math.max(4096, records.length * 96)));
  let pos = 4;
  for (let i = 0; i < records.length; ) {
    const r = records[i];
    const end = out.length - pos >= 256 ? writeDrivingRow(r, head, out, pos) : TOO_SMALL;
    if (end === TOO_SMALL) {
      out = grown(out, pos, pos + 256 + 4 * JSON.stringify(r).length);
      continue;
    }
    pos = end;
    i++;
  }
  out.writeUInt32LE(records.length, 0);
  return { rows: out.buffer, sets: [set] };
}

/** One driving row's key and compact value at `pos`: the end position, or TOO_SMALL. */
function writeDrivingRow(r: DrivingRecord, head: Buffer, out: Buffer, pos: number): number {
  const { date, carNumber } = r;
  // Key: driverRowKey(date, carNumber), the date's characters reversed, `-`, the car number. Both are
  // ASCII in a parsed record; anything else takes Buffer's UTF-8 path.
  const keyLength = date.length + 1 + carNumber.length;
  if (out.length - pos < 6 + 3 * keyLength + 17) return TOO_SMALL;
  let k = pos + 2;
  let ascii = true;
  for (let j = date.length - 1; j >= 0; j--) ascii = (out[k++] = date.charCodeAt(j)) < 0x80 && ascii;
  out[k++] = 45; // '-'
  for (let j = 0; j < carNumber.length; j++) ascii = (out[k++] = carNumber.charCodeAt(j)) < 0x80 && ascii;
  if (!ascii) k = pos + 2 + out.write(driverRowKey(date, carNumber), pos + 2, 'utf8');
  out.writeUInt16LE(k - pos - 2, pos);
  const valueAt = k + 4;
  for (let j = 0; j < 17; j++) out[valueAt + j] = head[j];
  let p = valueAt + 17;
  // The values in DRIVER_CELLS' order (drivingRecordCells').
  if ((p = writeStr(date, out, p)) < 0) return TOO_SMALL;
  if ((p = writeStr(carNumber, out, p)) < 0) return TOO_SMALL;
  if ((p = writeStr(smallIntString(r.speedPedal), out, p)) < 0) return TOO_SMALL;
  if ((p = writeStr(smallIntString(r.breakPedal), out, p)) < 0) return TOO_SMALL;
  if ((p = writeStr(r.steerAngle, out, p)) < 0) return TOO_SMALL;
  if ((p = writeStr(r.directLight, out, p)) < 0) return TOO_SMALL;
  if ((p = writeStr(smallIntString(r.speed), out, p)) < 0) return TOO_SMALL;
  if ((p = writeStr(r.areaNumber, out, p)) < 0) return TOO_SMALL;
  out.writeUInt32LE(p - valueAt, k);
  return p;
}

/**
 * The compact value `[ts, hash, ...values]` of a row whose columns are `set`'s, in its order (every row of
 * a stream batch: one pass both checks the names and writes the values). The end position, TOO_SMALL
 * when `out` is too small, OTHER_SET when the row's names are not the set's.
 */
function encodeCompact(cells: Record<string, string>, set: ColumnSet, ts: number, out: Buffer, pos: number): number {
  const cols = set.columns;
  if (cols.length + 2 > 0xffff || pos + 17 > out.length) return TOO_SMALL;
  writeCompactHead(set, ts, out, pos);
  pos += 17;
  let i = 0;
  for (const col in cells) {
    if (cols[i++] !== col) return OTHER_SET;
    pos = writeStr(String(cells[col]), out, pos);
    if (pos < 0) return TOO_SMALL;
  }
  return i === cols.length ? pos : OTHER_SET;
}

/** A compact value's first 17 bytes: array16 header of 2 + the set's length, float64 stamp, uint32 hash. */
function writeCompactHead(set: ColumnSet, ts: number, out: Buffer, pos: number): void {
  const n = 2 + set.columns.length;
  out[pos] = 0xdc; // array16
  out[pos + 1] = n >> 8;
  out[pos + 2] = n & 0xff;
  out[pos + 3] = 0xcb; // float64, big-endian
  F64[0] = ts;
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) out[pos + 4 + i] = F64_BYTES[7 - i];
  else for (let i = 0; i < 8; i++) out[pos + 4 + i] = F64_BYTES[i];
  out[pos + 12] = 0xce; // uint32, big-endian
  out.writeUInt32BE(set.hash, pos + 13);
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
