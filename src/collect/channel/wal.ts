/**
 * The file channel's write-ahead log, its format and codec: how records are encoded and decoded.
 * Reading records back is in wal-read.ts, appending them durably in wal-writer.ts; what a record means
 * for the queue (the channel logic) is in file.ts.
 *
 * On-disk format (all integers little-endian; u48 = 6-byte unsigned):
 *
 *   log file     := file-header record*                     named `log-<id>` in the data dir, id = 1, 2, …
 *   file-header  := "SCWAL001" file-id:u32                  12 bytes
 *   record       := type:u8 length:u32 crc:u32 payload[length]
 *                   crc = CRC-32 (zlib) of the type and length bytes, then of the payload
 *   type         := 3 (put) | 2 (take) | 1 (put, version 1: still replayed, no longer written)
 *   put payload  := marker event-count:u32 header-set-count:u32 header-set{header-set-count}
 *                   (0x00 | 0x01 header-set-index:u32{event-count})        0x00: every event has set 0
 *                   layout data-len:u32 data[data-len]
 *   layout       := 0x00 (gap:varint length:varint){event-count}            bodies in order, not overlapping:
 *                   body i starts gap bytes after the end of body i-1 (of the start of data for i = 0)
 *                 | 0x01 starts:u32{event-count} ends:u32{event-count}      any order: data[starts[i], ends[i])
 *                   varint = unsigned LEB128. The data is the batch's bytes as one block (batch.ts), written
 *                   from the batch's own buffer (writev): a put costs no copy and ~2 bytes per line besides
 *   header-set   := pair-count:u16 (key-len:u16 key value-len:u32 value){pair-count}      UTF-8 strings
 *   v1 payload   := marker event-count:u32 header-set-count:u32 header-set{header-set-count} event{event-count}
 *   event        := header-set-index:u32 body-len:u32 body[body-len]
 *   take payload := marker range-count:u32 (first-seq:u48 count:u32){range-count}
 *   marker       := 0x00 | 0x01 owner-len:u16 owner value-len:u32 value
 *
 * Sequence numbers are implicit: replay numbers the events of put records consecutively in log order,
 * starting from the checkpoint's next-seq (0 without a checkpoint). A take record removes seq ranges
 * (normally one run from the head; several when concurrent takes committed out of order).
 * A header object shared by several events of a batch (interceptors share them) is one header-set.
 */
import os from 'node:os';
import zlib from 'node:zlib';
import { EventBatch, type Headers } from '../batch.ts';
import type { CollectEvent, Marker } from '../types.ts';
import type { SeqRange } from './queue.ts';

export const FILE_MAGIC = Buffer.from('SCWAL001', 'latin1');
export const FILE_HEADER = 12;
export const RECORD_HEADER = 9;
/** Version 1 put records (one length-prefixed body per event): replayed, no longer written. */
export const PUT_V1 = 1;
export const PUT = 3;
export const isPut = (type: number) => type === PUT || type === PUT_V1;
/** Offsets are copied as whole Uint32Arrays where the host is little-endian (the log's byte order). */
const LE = os.endianness() === 'LE';
export const TAKE = 2;

export const logFileName = (id: number) => `log-${id}`;
export function parseLogFileName(name: string): number | undefined {
  const m = /^log-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export class LogCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogCorruptError';
  }
}

/** CRC-32 of `data` continuing `crc`. Node 20's zlib.crc32 returns 0, not `crc`, for some empty views. */
function crcOn(data: Buffer, crc: number): number {
  return data.length ? zlib.crc32(data, crc) : crc;
}

export function recordCrc(buf: Buffer, start: number, length: number): number {
  // Header bytes type+length, then payload: a torn length field fails the check too.
  const h = zlib.crc32(buf.subarray(start, start + 5));
  return crcOn(buf.subarray(start + RECORD_HEADER, start + RECORD_HEADER + length), h);
}

function markerSize(m: Marker | undefined): number {
  return m ? 1 + 2 + Buffer.byteLength(m.owner) + 4 + Buffer.byteLength(m.value) : 1;
}

function writeMarker(buf: Buffer, off: number, m: Marker | undefined): number {
  if (!m) { buf[off] = 0; return off + 1; }
  buf[off++] = 1;
  const ol = buf.write(m.owner, off + 2);
  buf.writeUInt16LE(ol, off); off += 2 + ol;
  const vl = buf.write(m.value, off + 4);
  buf.writeUInt32LE(vl, off); off += 4 + vl;
  return off;
}

/**
 * Fills in the record header of `head` (type, length, CRC) for a record made of `head` and then `body`
 * (a put's data, written from its own buffer).
 */
function finishRecord(head: Buffer, type: number, body?: Buffer): Buffer {
  head[0] = type;
  head.writeUInt32LE(head.length - RECORD_HEADER + (body?.length ?? 0), 1);
  const crc = recordCrc(head, 0, head.length - RECORD_HEADER);
  head.writeUInt32LE(body ? crcOn(body, crc) : crc, 5);
  return head;
}

function headerSetSize(h: Headers): number {
  let size = 2;
  for (const k in h) size += 6 + Buffer.byteLength(k) + Buffer.byteLength(String(h[k]));
  return size;
}

function writeHeaderSet(buf: Buffer, off: number, h: Headers): number {
  const countAt = off;
  off += 2;
  let pairs = 0;
  for (const k in h) {
    const kl = buf.write(k, off + 2);
    buf.writeUInt16LE(kl, off); off += 2 + kl;
    const vl = buf.write(String(h[k]), off + 4);
    buf.writeUInt32LE(vl, off); off += 4 + vl;
    pairs++;
  }
  buf.writeUInt16LE(pairs, countAt);
  return off;
}

/** The fields both put formats start with: marker, event count, the header sets. */
function writePutStart(buf: Buffer, marker: Marker | undefined, n: number, sets: Headers[]): number {
  let off = writeMarker(buf, RECORD_HEADER, marker);
  buf.writeUInt32LE(n, off);
  buf.writeUInt32LE(sets.length, off + 4);
  off += 8;
  for (const h of sets) off = writeHeaderSet(buf, off, h);
  return off;
}

function writeU32s(buf: Buffer, off: number, a: Uint32Array, n: number): number {
  if (LE) buf.set(new Uint8Array(a.buffer, a.byteOffset, n * 4), off);
  else for (let i = 0; i < n; i++) buf.writeUInt32LE(a[i], off + i * 4);
  return off + n * 4;
}

function writeVarint(buf: Buffer, off: number, v: number): number {
  while (v > 0x7f) {
    buf[off++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[off++] = v;
  return off;
}

/**
 * A record as the buffers that make it up, back to back: the record header and the encoded fields,
 * then (puts) a view of the batch's own bytes. Written with one writev; `recordBytes` is its length.
 */
export type EncodedRecord = Buffer[];

export function recordBytes(rec: EncodedRecord): number {
  let n = 0;
  for (const b of rec) n += b.length;
  return n;
}

/**
 * Encodes a put record: the marker, the distinct header objects once, where each body lies, and the
 * batch's bytes from its first body to its last (with the newline after it, if any) as a view.
 */
export function encodePut(batch: EventBatch, marker: Marker | undefined): EncodedRecord {
  const n = batch.count;
  const { data, starts, ends } = batch;
  let lo = n ? starts[0] : 0;
  let hi = lo;
  let ordered = true;
  for (let i = 0; i < n; i++) {
    if (starts[i] < lo) lo = starts[i];
    if (ends[i] > hi) hi = ends[i];
    if (i > 0 && starts[i] < ends[i - 1]) ordered = false;
  }
  if (hi < data.length && data[hi] === 10) hi++;
  // Header sets: one when shared, else the distinct objects in first-use order.
  let sets: Headers[];
  let index: Uint32Array | undefined;
  if (batch.sharedHeaders) sets = [batch.headers as Headers];
  else {
    sets = [];
    index = new Uint32Array(n);
    const seen = new Map<Headers, number>();
    const per = batch.headers as readonly Headers[];
    for (let i = 0; i < n; i++) {
      let idx = seen.get(per[i]);
      if (idx === undefined) {
        idx = sets.length;
        sets.push(per[i]);
        seen.set(per[i], idx);
      }
      index[i] = idx;
    }
  }
  // Layout 0 needs at most 5 + 5 bytes per event; layout 1 exactly 8.
  let size = RECORD_HEADER + markerSize(marker) + 8 + 1 + (index ? 4 * n : 0) + 1 + (ordered ? 10 * n : 8 * n) + 4;
  for (const h of sets) size += headerSetSize(h);
  const buf = Buffer.allocUnsafe(size);
  let off = writePutStart(buf, marker, n, sets);
  buf[off++] = index ? 1 : 0;
  if (index) off = writeU32s(buf, off, index, n);
  if (ordered) {
    buf[off++] = 0;
    let prev = lo;
    for (let i = 0; i < n; i++) {
      off = writeVarint(buf, off, starts[i] - prev);
      off = writeVarint(buf, off, ends[i] - starts[i]);
      prev = ends[i];
    }
  } else {
    buf[off++] = 1;
    const rel = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      rel[i] = starts[i] - lo;
      rel[n + i] = ends[i] - lo;
    }
    off = writeU32s(buf, off, rel, 2 * n);
  }
  buf.writeUInt32LE(hi - lo, off);
  off += 4;
  const body = data.subarray(lo, hi);
  return [finishRecord(buf.subarray(0, off), PUT, body), body];
}

/** Encodes a version 1 put record. Not used by the channel any more; kept to test that old logs replay. */
export function encodePutV1(events: CollectEvent[], marker: Marker | undefined): Buffer {
  const n = events.length;
  const setIndex = new Uint32Array(n);
  const sets: Record<string, string>[] = [];
  const seen = new Map<Record<string, string>, number>();
  let last: Record<string, string> | undefined;
  let lastIdx = 0;
  let size = RECORD_HEADER + markerSize(marker) + 8 + n * 8;
  for (let i = 0; i < n; i++) {
    const e = events[i];
    const h = e.headers;
    if (h !== last) {
      let idx = seen.get(h);
      if (idx === undefined) {
        idx = sets.length;
        sets.push(h);
        seen.set(h, idx);
        size += headerSetSize(h);
      }
      last = h;
      lastIdx = idx;
    }
    setIndex[i] = lastIdx;
    size += e.body.length;
  }
  const buf = Buffer.allocUnsafe(size);
  let off = writePutStart(buf, marker, n, sets);
  for (let i = 0; i < n; i++) {
    const body = events[i].body;
    buf.writeUInt32LE(setIndex[i], off);
    buf.writeUInt32LE(body.length, off + 4);
    off += 8;
    off += body.copy(buf, off);
  }
  return finishRecord(buf, PUT_V1);
}

export function encodeTake(ranges: SeqRange[], marker: Marker | undefined): EncodedRecord {
  const buf = Buffer.allocUnsafe(RECORD_HEADER + markerSize(marker) + 4 + ranges.length * 10);
  let off = writeMarker(buf, RECORD_HEADER, marker);
  buf.writeUInt32LE(ranges.length, off); off += 4;
  for (const r of ranges) {
    buf.writeUIntLE(r.first, off, 6);
    buf.writeUInt32LE(r.count, off + 6);
    off += 10;
  }
  return [finishRecord(buf, TAKE)];
}

/** Reads a payload; every read is bounds-checked so a malformed payload is an error, not a crash. */
class PayloadReader {
  off = 0;
  constructor(readonly buf: Buffer, readonly where: string) {}
  need(n: number): void {
    if (this.off + n > this.buf.length) throw new LogCorruptError(`${this.where}: record payload ends early (needs ${n} bytes at payload offset ${this.off})`);
  }
  u8(): number { this.need(1); return this.buf[this.off++]; }
  u16(): number { this.need(2); const v = this.buf.readUInt16LE(this.off); this.off += 2; return v; }
  u32(): number { this.need(4); const v = this.buf.readUInt32LE(this.off); this.off += 4; return v; }
  u48(): number { this.need(6); const v = this.buf.readUIntLE(this.off, 6); this.off += 6; return v; }
  str(n: number): string { this.need(n); const s = this.buf.toString('utf8', this.off, this.off + n); this.off += n; return s; }
  bytes(n: number): Buffer { this.need(n); const b = this.buf.subarray(this.off, this.off + n); this.off += n; return b; }
  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.u8();
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    throw new LogCorruptError(`${this.where}: varint longer than 5 bytes at payload offset ${this.off}`);
  }
  headerSet(): Headers {
    const pairs = this.u16();
    const h: Headers = {};
    for (let p = 0; p < pairs; p++) {
      const k = this.str(this.u16());
      h[k] = this.str(this.u32());
    }
    return h;
  }
  marker(): Marker | undefined {
    const has = this.u8();
    if (has === 0) return undefined;
    if (has !== 1) throw new LogCorruptError(`${this.where}: bad marker flag ${has}`);
    const owner = this.str(this.u16());
    return { owner, value: this.str(this.u32()) };
  }
}

/** Decodes a put payload of record `type`. Bodies are views of `payload` (which the caller owns for their lifetime). */
export function decodePut(type: number, payload: Buffer, where: string): { marker: Marker | undefined; events: EventBatch } {
  return type === PUT_V1 ? decodePutV1(payload, where) : decodePutBatch(payload, where);
}

function readU32s(r: PayloadReader, n: number): Uint32Array {
  const bytes = r.bytes(n * 4);
  const a = new Uint32Array(n);
  if (LE) new Uint8Array(a.buffer).set(bytes);
  else for (let i = 0; i < n; i++) a[i] = bytes.readUInt32LE(i * 4);
  return a;
}

function decodePutBatch(payload: Buffer, where: string): { marker: Marker | undefined; events: EventBatch } {
  const r = new PayloadReader(payload, where);
  const marker = r.marker();
  const n = r.u32();
  const setCount = r.u32();
  // Counts are checked against the payload before anything is allocated from them.
  r.need(n * 2); // every layout takes at least 2 bytes per event
  const sets: Headers[] = [];
  for (let s = 0; s < setCount; s++) sets.push(r.headerSet());
  const mode = r.u8();
  let headers: Headers | Headers[];
  if (mode === 0) {
    if (setCount !== 1) throw new LogCorruptError(`${where}: shared headers need exactly one header set, found ${setCount}`);
    headers = sets[0];
  } else if (mode === 1) {
    const index = readU32s(r, n);
    headers = new Array<Headers>(n);
    for (let i = 0; i < n; i++) {
      if (index[i] >= setCount) throw new LogCorruptError(`${where}: event ${i} names header set ${index[i]} of ${setCount}`);
      headers[i] = sets[index[i]];
    }
  } else throw new LogCorruptError(`${where}: bad header index mode ${mode}`);
  const layout = r.u8();
  let starts: Uint32Array;
  let ends: Uint32Array;
  if (layout === 0) {
    starts = new Uint32Array(n);
    ends = new Uint32Array(n);
    let prev = 0;
    for (let i = 0; i < n; i++) {
      starts[i] = prev + r.varint();
      ends[i] = prev = starts[i] + r.varint();
    }
  } else if (layout === 1) {
    starts = readU32s(r, n);
    ends = readU32s(r, n);
  } else throw new LogCorruptError(`${where}: bad body layout ${layout}`);
  const data = r.bytes(r.u32());
  for (let i = 0; i < n; i++) {
    if (starts[i] > ends[i] || ends[i] > data.length) throw new LogCorruptError(`${where}: event ${i} spans ${starts[i]}..${ends[i]} of ${data.length} data bytes`);
  }
  if (r.off !== payload.length) throw new LogCorruptError(`${where}: ${payload.length - r.off} stray bytes after the events`);
  return { marker, events: new EventBatch(data, starts, ends, n, headers) };
}

function decodePutV1(payload: Buffer, where: string): { marker: Marker | undefined; events: EventBatch } {
  const r = new PayloadReader(payload, where);
  const marker = r.marker();
  const n = r.u32();
  const setCount = r.u32();
  const sets: Headers[] = [];
  for (let s = 0; s < setCount; s++) sets.push(r.headerSet());
  const events: CollectEvent[] = [];
  for (let i = 0; i < n; i++) {
    const idx = r.u32();
    if (idx >= setCount) throw new LogCorruptError(`${where}: event ${i} names header set ${idx} of ${setCount}`);
    events.push({ headers: sets[idx], body: r.bytes(r.u32()) });
  }
  if (r.off !== payload.length) throw new LogCorruptError(`${where}: ${payload.length - r.off} stray bytes after the events`);
  return { marker, events: EventBatch.fromEvents(events) };
}

export function decodeTake(payload: Buffer, where: string): { marker: Marker | undefined; ranges: SeqRange[] } {
  const r = new PayloadReader(payload, where);
  const marker = r.marker();
  const n = r.u32();
  const ranges: SeqRange[] = [];
  for (let i = 0; i < n; i++) ranges.push({ first: r.u48(), count: r.u32() });
  if (r.off !== payload.length) throw new LogCorruptError(`${where}: ${payload.length - r.off} stray bytes after the ranges`);
  return { marker, ranges };
}
