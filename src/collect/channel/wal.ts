/**
 * The file channel's write-ahead log: record encoding, log files, group commit and the replay scanner.
 * The channel logic (what a record means for the queue) is in file.ts.
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
 *
 * Durability: a record is appended with one write and is acknowledged (applied and its commit resolved)
 * only after an fdatasync that covers it. The last file is preallocated with zeros in 8 MB steps (as
 * Flume does): an fdatasync that does not change the file size need not commit file-system metadata,
 * which makes the per-commit sync up to twice as fast on ext4. So the log of the last file ends at the
 * first record header whose type byte is 0 and after which the file holds only zeros; a file is cut to
 * its log end when it is rolled or closed. Commits that arrive while a sync runs share the next one (group
 * commit); acknowledgements happen in log order. Before a new file is started the old one is synced, so
 * only the last file can end with a torn record. A failed write is cut off again (ftruncate); a failed
 * fdatasync marks the log failed (the page cache state is then unknown): every later commit is refused
 * until the agent restarts and replays.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
const isPut = (type: number) => type === PUT || type === PUT_V1;
/** Offsets are copied as whole Uint32Arrays where the host is little-endian (the log's byte order). */
const LE = os.endianness() === 'LE';
const PREALLOCATE = 8 << 20;
const ZEROS = Buffer.alloc(1 << 20);
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

function recordCrc(buf: Buffer, start: number, length: number): number {
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

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

/** Writes the buffers back to back at `position` (writev, continued after a short write). */
function writevFully(fd: number, bufs: Buffer[], position: number): void {
  let done = fs.writevSync(fd, bufs, position);
  let skip = done;
  for (const b of bufs) {
    if (skip >= b.length) { skip -= b.length; continue; }
    writeFully(fd, skip ? b.subarray(skip) : b, position + done);
    done += b.length - skip;
    skip = 0;
  }
}

function readFully(fd: number, buf: Buffer, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export interface RecordAt {
  type: number;
  payload: Buffer;
  offset: number;
  /** Offset just after the record. */
  end: number;
}

type ReadResult = { ok: true; rec: RecordAt } | { ok: false; reason: string };

/** Reads and checks the record at `offset` (payload copied into its own Buffer). */
export function readRecord(fd: number, offset: number, fileSize: number): ReadResult {
  if (fileSize - offset < RECORD_HEADER) return { ok: false, reason: `short record header (${fileSize - offset} bytes before end of file)` };
  const head = Buffer.allocUnsafe(RECORD_HEADER);
  if (readFully(fd, head, offset) < RECORD_HEADER) return { ok: false, reason: 'short read of the record header' };
  const type = head[0];
  const length = head.readUInt32LE(1);
  if (!isPut(type) && type !== TAKE) return { ok: false, reason: `unknown record type ${type}` };
  if (offset + RECORD_HEADER + length > fileSize) return { ok: false, reason: `record of ${length} bytes runs past the end of the file` };
  const whole = Buffer.allocUnsafe(RECORD_HEADER + length);
  head.copy(whole, 0);
  if (readFully(fd, whole.subarray(RECORD_HEADER), offset + RECORD_HEADER) < length) return { ok: false, reason: 'short read of the record payload' };
  const crc = head.readUInt32LE(5);
  const actual = recordCrc(whole, 0, length);
  if (crc !== actual) return { ok: false, reason: `CRC mismatch (stored ${crc.toString(16)}, computed ${actual.toString(16)})` };
  return { ok: true, rec: { type, payload: whole.subarray(RECORD_HEADER), offset, end: offset + RECORD_HEADER + length } };
}

/**
 * Sequential reader over one log file with a read-ahead window (records of a 1000-event batch are
 * ~100 KB; reading them one by one would cost two syscalls each).
 */
export class LogScanner {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  constructor(private readonly fd: number, private readonly fileSize: number) {}

  /** The record at `offset`, or why there is no valid record there. Payloads are private copies. */
  read(offset: number): ReadResult {
    const size = this.fileSize;
    if (size - offset < RECORD_HEADER) return { ok: false, reason: `short record header (${size - offset} bytes before end of file)` };
    let w = offset - this.windowStart;
    if (w < 0 || w + RECORD_HEADER > this.window.length) { this.fill(offset, RECORD_HEADER); w = 0; }
    const type = this.window[w];
    const length = this.window.readUInt32LE(w + 1);
    if (!isPut(type) && type !== TAKE) return { ok: false, reason: `unknown record type ${type}` };
    if (offset + RECORD_HEADER + length > size) return { ok: false, reason: `record of ${length} bytes runs past the end of the file` };
    if (w + RECORD_HEADER + length > this.window.length) { this.fill(offset, RECORD_HEADER + length); w = 0; }
    const crc = this.window.readUInt32LE(w + 5);
    const actual = recordCrc(this.window, w, length);
    if (crc !== actual) return { ok: false, reason: `CRC mismatch (stored ${crc.toString(16)}, computed ${actual.toString(16)})` };
    // Copy: bodies of live events point into the payload, and must not pin the whole read window.
    const payload = Buffer.from(this.window.subarray(w + RECORD_HEADER, w + RECORD_HEADER + length));
    return { ok: true, rec: { type, payload, offset, end: offset + RECORD_HEADER + length } };
  }

  private fill(offset: number, atLeast: number): void {
    const len = Math.min(Math.max(atLeast, 4 << 20), this.fileSize - offset);
    const buf = Buffer.allocUnsafe(len);
    const got = readFully(this.fd, buf, offset);
    this.window = buf.subarray(0, got);
    this.windowStart = offset;
  }
}

interface SyncWaiter {
  no: number;
  apply: () => void;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The append side of the log: one open file, rolled past maxFileSize, with group-committed fdatasync. */
export class LogWriter {
  fileId = 0;
  /** End of the log in the current file. */
  size = 0;
  /** Physical size of the current file (log end plus preallocated zeros). */
  private allocated = 0;
  private fd = -1;
  private written = 0;
  private synced = 0;
  private syncing = false;
  private kickScheduled = false;
  private waiters: SyncWaiter[] = [];
  private retired: number[] = [];
  private failed: Error | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Bytes appended since open (for the disk-space estimate and the benchmark). */
  bytesWritten = 0;
  /** fdatasync calls made for commits (fewer than commits when group commit merges them). */
  syncs = 0;

  /** Called after a roll (the channel checkpoints then, so old files go soon and disk use stays bounded). */
  onRoll: (() => void) | undefined;

  constructor(readonly dir: string, readonly maxFileSize: number, private readonly label: string) {}

  /** Continues an existing file (after replay, `size` = its log end) or creates `log-<id>`. */
  open(fileId: number, existingSize: number | undefined): void {
    if (existingSize === undefined) this.create(fileId);
    else {
      this.fd = fs.openSync(path.join(this.dir, logFileName(fileId)), 'r+');
      this.fileId = fileId;
      this.size = existingSize;
      this.allocated = fs.fstatSync(this.fd).size;
    }
  }

  private create(fileId: number): void {
    const file = path.join(this.dir, logFileName(fileId));
    const fd = fs.openSync(file, 'wx');
    const head = Buffer.alloc(FILE_HEADER);
    FILE_MAGIC.copy(head, 0);
    head.writeUInt32LE(fileId, 8);
    try {
      writeFully(fd, head, 0);
      fs.fdatasyncSync(fd);
      fsyncDir(this.dir);
    } catch (err) {
      // A full disk: no half-made file is left for the next attempt to trip over.
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
      throw err;
    }
    this.fd = fd;
    this.fileId = fileId;
    this.size = FILE_HEADER;
    this.allocated = FILE_HEADER;
  }

  /** Extends the file with zeros so the next records overwrite instead of append. */
  private preallocate(needed: number): void {
    const target = Math.max(needed, Math.min(this.allocated + PREALLOCATE, this.maxFileSize));
    while (this.allocated < target) {
      const n = Math.min(ZEROS.length, target - this.allocated);
      writeFully(this.fd, ZEROS.subarray(0, n), this.allocated);
      this.allocated += n;
    }
  }

  /** Appends one encoded record; returns where it went and its number for `whenDurable`. Throws on failure. */
  append(rec: EncodedRecord): { fileId: number; offset: number; no: number; length: number } {
    if (this.failed) throw this.failed;
    if (this.fd < 0) throw new Error(`${this.label}: the log is closed`);
    const length = recordBytes(rec);
    let offset = this.size;
    try {
      if (this.size > FILE_HEADER && this.size + length > this.maxFileSize) {
        this.roll();
        offset = this.size;
      }
      if (offset + length > this.allocated) this.preallocate(offset + length);
      writevFully(this.fd, rec, offset);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      try {
        // Zero the bytes again (the log ends at the first zero type byte), then drop the preallocation.
        fs.ftruncateSync(this.fd, offset);
        this.allocated = offset;
      } catch (terr) {
        this.failed = new Error(`${this.label}: a failed write to ${logFileName(this.fileId)} could not be cut off (${(terr as Error).message}); restart the agent to replay the log`);
      }
      throw new Error(`${this.label}: cannot write to ${path.join(this.dir, logFileName(this.fileId))} at offset ${offset}: ${e.code ?? ''} ${e.message}; `
        + 'the commit is refused (free disk space or fix the data dir, the source will retry)');
    }
    this.size += length;
    this.bytesWritten += length;
    this.written++;
    return { fileId: this.fileId, offset, no: this.written, length };
  }

  private roll(): void {
    // The old file is cut to its log end and synced before anything goes to the new one: only the last
    // file can be torn or carry preallocated zeros.
    fs.ftruncateSync(this.fd, this.size);
    this.allocated = this.size;
    fs.fdatasyncSync(this.fd);
    // The new file first: when it cannot be made (a full disk), the old one stays the open one.
    const old = this.fd;
    this.create(this.fileId + 1);
    if (this.syncing) this.retired.push(old); else fs.closeSync(old);
    this.onRoll?.();
  }

  /** Resolves (after calling `apply`, in record order) once record `no` is on disk. */
  whenDurable(no: number, apply: () => void): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiters.push({ no, apply, resolve, reject });
      // Start the sync on the next turn, not now: commits made by the code that the last acknowledgement
      // woke up (a sink taking what a source just put, the source's next batch) then share one fdatasync.
      if (!this.syncing && !this.kickScheduled) {
        this.kickScheduled = true;
        setImmediate(() => {
          this.kickScheduled = false;
          this.kick();
        });
      }
    });
  }

  private kick(): void {
    if (this.syncing || this.waiters.length === 0) return;
    this.syncing = true;
    const target = this.written;
    this.syncs++;
    fs.fdatasync(this.fd, (err) => {
      this.syncing = false;
      for (const fd of this.retired.splice(0)) fs.closeSync(fd);
      if (err) {
        this.failed = new Error(`${this.label}: fdatasync of ${path.join(this.dir, logFileName(this.fileId))} failed (${err.message}); `
          + 'commits are refused until the agent restarts and replays the log');
        for (const w of this.waiters.splice(0)) w.reject(this.failed);
      } else {
        this.synced = target;
        let i = 0;
        while (i < this.waiters.length && this.waiters[i].no <= this.synced) {
          const w = this.waiters[i++];
          try {
            w.apply();
            w.resolve();
          } catch (applyErr) {
            w.reject(applyErr as Error);
          }
        }
        this.waiters.splice(0, i);
      }
      if (this.waiters.length > 0) this.kick();
      else for (const f of this.idleWaiters.splice(0)) f();
    });
  }

  /** Resolves when no commit is waiting for a sync. */
  idle(): Promise<void> {
    if (!this.syncing && !this.kickScheduled && this.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Records appended since open. */
  get records(): number {
    return this.written;
  }

  get failure(): Error | undefined {
    return this.failed;
  }

  /** Cuts the preallocated zeros off (when nothing failed) and closes the file. */
  close(): void {
    if (this.fd < 0) return;
    try {
      if (!this.failed && this.allocated > this.size) {
        fs.ftruncateSync(this.fd, this.size);
        fs.fdatasyncSync(this.fd);
      }
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

export { fsyncDir, isPut, readFully, writeFully };
