/**
 * PostgreSQL's binary COPY format for the table store's rows `(row text, ts float8, cells jsonb, hist jsonb)`
 * (the layout is described in postgres.ts):
 *
 *   header   "PGCOPY\n\377\r\n\0", int32 flags = 0, int32 header-extension length = 0
 *   tuple    int16 field count (4), then per field int32 byte length (-1: NULL) + bytes:
 *              row    its UTF-8 bytes (text's binary form)
 *              ts     8 bytes, IEEE 754 double, big-endian
 *              cells  json: the JSON text `{"cf1:speed":"120",…}` (json's binary form is its text);
 *                     jsonb (tables of earlier versions): 0x01 (jsonb's binary format version) + the same text
 *              hist   NULL, or 0x01 + the full stored row's JSON (cells.ts shape)
 *   trailer  int16 -1
 *
 * `row` and `cells` are written byte by byte into the buffer: each column name's `"name":` bytes are
 * cached, and a row key or value that is ASCII (and, in JSON, without a character JSON escapes: the
 * common case) is copied as is; any other goes through Buffer.write (and JSON.stringify).
 */
import type { StoredRow } from './cells.ts';

const HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);

/** `"name":` (first member) and `,"name":` (any other) as UTF-8, per column name. */
const keyBytes = new Map<string, [Buffer, Buffer]>();
function keyOf(col: string): [Buffer, Buffer] {
  let k = keyBytes.get(col);
  if (k === undefined) {
    const json = JSON.stringify(col) + ':';
    k = [Buffer.from(json, 'utf8'), Buffer.from(',' + json, 'utf8')];
    if (keyBytes.size < 10_000) keyBytes.set(col, k);
  }
  return k;
}

/** Accumulates tuples into one COPY buffer, grown as needed. */
export class CopyWriter {
  private buf: Buffer;
  private pos: number;
  rows = 0;
  /**
   * The column names of the previous row, by position, and their key bytes: consecutive rows mostly
   * have the same columns in the same order (the stream's always), so a row's keys are found by
   * comparing names (the same string objects) instead of a lookup per cell.
   */
  private readonly lastCols: string[] = [];
  private readonly lastKeys: [Buffer, Buffer][] = [];

  /** `cellsJsonb`: the target's `cells` column is jsonb (a version byte before the text), else json. */
  constructor(sizeHint: number, private readonly cellsJsonb = false) {
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

  /** A text field (int32 length + UTF-8): an ASCII string byte by byte, any other through Buffer.write. */
  private text(s: string): void {
    const len = s.length;
    this.ensure(4 + 3 * len);
    const b = this.buf;
    const at = this.pos + 4;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        const n = b.write(s, at, 'utf8');
        b.writeInt32BE(n, this.pos);
        this.pos = at + n;
        return;
      }
      b[at + i] = c;
    }
    b.writeInt32BE(len, this.pos);
    this.pos = at + len;
  }

  /**
   * `"name":` (or `,"name":`) then the JSON string of `s`: both copied byte by byte (a loop beats Buffer.copy and
   * Buffer.write at these sizes) when `s` is ASCII and needs no escape, else `s` through JSON.stringify.
   */
  private member(k: Buffer, s: string): void {
    const len = s.length;
    const kl = k.length;
    this.ensure(kl + len + 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < kl; i++) b[p + i] = k[i];
    p += kl;
    b[p++] = 0x22;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        const q = JSON.stringify(s);
        this.pos += kl;
        this.ensure(3 * q.length);
        this.pos += this.buf.write(q, this.pos, 'utf8');
        return;
      }
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  /** One tuple: a row whose columns each have one version stamped `ts` (hist NULL), or the full stored row. */
  add(row: string, ts: number, cells: Record<string, string>, hist?: StoredRow): void {
    this.ensure(2);
    this.buf[this.pos] = 0;
    this.buf[this.pos + 1] = 4;
    this.pos += 2;
    this.text(row);
    this.ensure(12 + 6);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeDoubleBE(ts, this.pos + 4);
    this.pos += 12;
    // cells: length filled in afterwards.
    const lenAt = this.pos;
    this.pos += 4;
    if (this.cellsJsonb) this.buf[this.pos++] = 1;
    this.buf[this.pos++] = 0x7b; // {
    let i = 0;
    for (const col in cells) {
      let k = this.lastKeys[i];
      if (this.lastCols[i] !== col) {
        this.lastCols[i] = col;
        this.lastKeys[i] = k = keyOf(col);
      }
      this.member(k[i === 0 ? 0 : 1], String(cells[col]));
      i++;
    }
    this.ensure(1 + 4);
    this.buf[this.pos++] = 0x7d; // }
    this.buf.writeInt32BE(this.pos - lenAt - 4, lenAt);
    if (hist === undefined) {
      this.buf.writeInt32BE(-1, this.pos);
      this.pos += 4;
    } else {
      const json = JSON.stringify(hist);
      this.ensure(5 + 3 * json.length);
      const n = this.buf.write(json, this.pos + 5, 'utf8');
      this.buf.writeInt32BE(n + 1, this.pos);
      this.buf[this.pos + 4] = 1;
      this.pos += 5 + n;
    }
    this.rows++;
  }

  /** The finished COPY data (trailer appended). */
  finish(): Buffer {
    this.ensure(2);
    this.buf[this.pos] = 0xff;
    this.buf[this.pos + 1] = 0xff;
    return this.buf.subarray(0, this.pos + 2);
  }
}
