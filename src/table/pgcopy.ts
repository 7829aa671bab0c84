/**
 * PostgreSQL's binary COPY format for the table store's staging table `(row text, cells jsonb)`:
 *
 *   header   "PGCOPY\n\377\r\n\0", int32 flags = 0, int32 header-extension length = 0
 *   tuple    int16 field count (2), then per field int32 byte length + bytes:
 *              row    its UTF-8 bytes (text's binary form)
 *              cells  0x01 (jsonb's binary format version) + the JSON text's UTF-8 bytes
 *   trailer  int16 -1
 *
 * `cells` is the stored row of cells.ts as JSON, `{"cf1:speed":[[ts,"120"]],…}`. A new put (one version
 * per column) is written as JSON text by hand: its column names' JSON is cached, a value is quoted
 * directly unless it holds a character JSON escapes (then JSON.stringify), and the batch's timestamp is
 * formatted once.
 */
import type { StoredRow } from './cells.ts';

const HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);

const colJson = new Map<string, string>();
function quoteCol(col: string): string {
  let q = colJson.get(col);
  if (q === undefined) {
    q = JSON.stringify(col);
    if (colJson.size < 10_000) colJson.set(col, q);
  }
  return q;
}

/** A JSON string literal: quoted directly when nothing in it needs escaping (the common case). */
export function quoteJson(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

/** The JSON of `mergeCells(desc, undefined, cells, ts)` (one version per column), without building it. */
export function newRowJson(cells: Record<string, string>, tsJson: string): string {
  let s = '{';
  let first = true;
  for (const col in cells) {
    s += (first ? '' : ',') + quoteCol(col) + ':[[' + tsJson + ',' + quoteJson(String(cells[col])) + ']]';
    first = false;
  }
  return s + '}';
}

/** Accumulates tuples into one COPY buffer, grown as needed. */
export class CopyWriter {
  private buf: Buffer;
  private pos: number;

  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(4096, sizeHint));
    HEADER.copy(this.buf, 0);
    this.pos = HEADER.length;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** One `(row, cells)` tuple; `json` is the cells' JSON text. */
  add(row: string, json: string): void {
    // Worst case 3 UTF-8 bytes per UTF-16 unit, plus the field count, two lengths and jsonb's version byte.
    this.ensure(11 + 3 * (row.length + json.length));
    const b = this.buf;
    let p = this.pos;
    b[p] = 0;
    b[p + 1] = 2;
    p += 2;
    const rowLen = b.write(row, p + 4, 'utf8');
    b.writeInt32BE(rowLen, p);
    p += 4 + rowLen;
    b[p + 4] = 1;
    const jsonLen = b.write(json, p + 5, 'utf8');
    b.writeInt32BE(jsonLen + 1, p);
    this.pos = p + 5 + jsonLen;
  }

  addStored(row: string, stored: StoredRow): void {
    this.add(row, JSON.stringify(stored));
  }

  /** The finished COPY data (trailer appended). */
  finish(): Buffer {
    this.ensure(2);
    this.buf[this.pos] = 0xff;
    this.buf[this.pos + 1] = 0xff;
    return this.buf.subarray(0, this.pos + 2);
  }
}
