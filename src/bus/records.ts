/**
 * One send's messages → one record batch v2 per partition (more if over the size cap), written by hand
 * into one Buffer.
 *
 * Each partition's segment is laid out as the Produce request wants it (protocol.ts), so it goes to the
 * socket without a copy:
 *
 *   segment => partition:int32 size:int32 batch
 *   batch (magic 2) => base_offset:int64 batch_length:int32 partition_leader_epoch:int32 magic:int8 crc:uint32
 *                      attributes:int16 last_offset_delta:int32 first_timestamp:int64 max_timestamp:int64
 *                      producer_id:int64 producer_epoch:int16 base_sequence:int32 [records]:int32 count
 *     (crc: CRC-32C of everything from attributes to the end; attributes bits 0–2 the codec, 0 none, 1 gzip;
 *      the header is written by src/kafka's writeBatchHeader, which the broker's scanBatches reads)
 *   record => length:varint attributes:int8 timestamp_delta:varlong offset_delta:varint
 *             key_length:varint key value_length:varint value [headers]:varint count
 *     headers => key_length:varint key value_length:varint value
 *   (varint: zig-zag, 7 bits a byte, low group first; a null key has length -1)
 *
 * Two passes over the input, no per-record objects: the first sizes every record (into reusable typed
 * arrays) and each partition's batch, the second writes the records at their partition's cursor.
 * With gzip, the records section of each batch is compressed on its own (node:zlib) and the batch is
 * rebuilt around it.
 */
import { gzipSync } from 'node:zlib';
import { BATCH_HEADER, writeBatchHeader } from '../kafka/index.ts';
import type { BusMessage } from './types.ts';

/** Under Apache Kafka's default `message.max.bytes` (1,048,588), with room for the batch header. */
export const DEFAULT_MAX_BATCH_BYTES = 1_000_000;
const SEGMENT_PREFIX = 8;

/** A send that cannot be encoded (bad message): names the message and what is wrong with it. */
export class MessageError extends Error {}

export interface PartitionSegment {
  partition: number;
  /** `partition:int32 size:int32 batch`, ready for the Produce request. */
  segment: Buffer;
  records: number;
}

let cap = 0;
let keyLen = new Int32Array(0);
let valLen = new Int32Array(0);
let bodyLen = new Int32Array(0);
let tsDelta = new Float64Array(0);
let slotOf = new Int32Array(0);

function ensure(n: number): void {
  if (n <= cap) return;
  cap = Math.max(n, cap * 2, 1024);
  keyLen = new Int32Array(cap);
  valLen = new Int32Array(cap);
  bodyLen = new Int32Array(cap);
  tsDelta = new Float64Array(cap);
  slotOf = new Int32Array(cap);
}

/** Bytes of a zig-zag varint of a signed 32-bit value. */
function varintSize(v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) { u >>>= 7; n++; }
  return n;
}

/** Bytes of a zig-zag varlong of a safe integer (timestamp deltas may exceed 32 bits). */
function varlongSize(v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return varintSize(v);
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 0x80) { u = Math.floor(u / 128); n++; }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

function writeVarlong(buf: Buffer, pos: number, v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return writeVarint(buf, pos, v);
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  while (u >= 0x80) {
    buf[pos++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}

function byteLen(x: string | Buffer): number {
  return typeof x === 'string' ? Buffer.byteLength(x) : x.length;
}

function put(buf: Buffer, pos: number, x: string | Buffer, len: number): number {
  if (typeof x === 'string') buf.write(x, pos, len);
  else x.copy(buf, pos);
  return pos + len;
}

function headersSize(h: Record<string, string>): { size: number; count: number } {
  let size = 0, count = 0;
  for (const k in h) {
    const v = h[k];
    const kl = Buffer.byteLength(k), vl = Buffer.byteLength(v);
    size += varintSize(kl) + kl + varintSize(vl) + vl;
    count++;
  }
  return { size: size + varintSize(count), count };
}

/** Why `m` is not `{ value: string | Buffer, key?, headers?, timestamp? }`, or null when it is fine. */
function problem(m: BusMessage): string | null {
  if (m === null || typeof m !== 'object') return `expected an object { key?, value, headers?, timestamp? }, got ${m === null ? 'null' : typeof m}`;
  if (typeof m.value !== 'string' && !Buffer.isBuffer(m.value)) return `value must be a string or a Buffer, got ${m.value === null ? 'null' : typeof m.value}`;
  if (m.key != null && typeof m.key !== 'string' && !Buffer.isBuffer(m.key)) return `key must be a string, a Buffer or null, got ${typeof m.key}`;
  if (m.timestamp !== undefined && !Number.isSafeInteger(m.timestamp)) return `timestamp must be an integer of epoch milliseconds, got ${String(m.timestamp)}`;
  if (m.headers !== undefined) {
    if (m.headers === null || typeof m.headers !== 'object') return 'headers must be an object of strings';
    for (const k in m.headers) if (typeof m.headers[k] !== 'string') return `header "${k}" must be a string, got ${typeof m.headers[k]}`;
  }
  return null;
}

/**
 * Encodes `messages` into one batch per partition — more when a partition's records exceed
 * `maxBatchBytes` (Kafka refuses batches over its `message.max.bytes`, 1 MiB by default): that partition's
 * later records go to further batches, returned after the first ones in order. `partitionOf[i]` is
 * message i's partition in [0, partitions). Throws MessageError naming the first bad message.
 */
export function encodeBatches(messages: BusMessage[], partitionOf: Int32Array, partitions: number, now: number, gzip: boolean, maxBatchBytes = DEFAULT_MAX_BATCH_BYTES): PartitionSegment[] {
  const n = messages.length;
  ensure(n);
  // A slot is one batch: slot p < partitions is partition p's first batch; overflow batches are appended.
  let slotCap = partitions + 4;
  let slotPart = new Int32Array(slotCap), count = new Int32Array(slotCap);
  let bytes = new Float64Array(slotCap), firstTs = new Float64Array(slotCap), maxTs = new Float64Array(slotCap);
  for (let p = 0; p < partitions; p++) slotPart[p] = p;
  let slots = partitions;
  const current = new Int32Array(partitions).map((_, p) => p);
  // Pass 1: sizes; offset deltas are each batch's running count, timestamps relative to its first.
  for (let i = 0; i < n; i++) {
    const m = messages[i];
    const why = problem(m);
    if (why !== null) throw new MessageError(`message ${i} of the send: ${why}`);
    const p = partitionOf[i];
    const ts = m.timestamp ?? now;
    const kl = m.key == null ? -1 : byteLen(m.key);
    const vl = byteLen(m.value);
    const fixed = 1 + varintSize(kl) + (kl > 0 ? kl : 0) + varintSize(vl) + vl + (m.headers ? headersSize(m.headers).size : 1);
    let s = current[p];
    let od = count[s], td = od ? ts - firstTs[s] : 0;
    let size = fixed + varlongSize(td) + varintSize(od);
    if (od > 0 && BATCH_HEADER + bytes[s] + varintSize(size) + size > maxBatchBytes) {
      if (slots === slotCap) {
        slotCap *= 2;
        const grow = <T extends Int32Array | Float64Array>(a: T): T => { const b = new (a.constructor as new (k: number) => T)(slotCap); b.set(a); return b; };
        slotPart = grow(slotPart); count = grow(count); bytes = grow(bytes); firstTs = grow(firstTs); maxTs = grow(maxTs);
      }
      s = current[p] = slots++;
      slotPart[s] = p;
      od = 0; td = 0;
      size = fixed + 2;
    }
    count[s]++;
    if (od === 0) { firstTs[s] = ts; maxTs[s] = ts; } else if (ts > maxTs[s]) maxTs[s] = ts;
    keyLen[i] = kl;
    valLen[i] = vl;
    bodyLen[i] = size;
    tsDelta[i] = td;
    slotOf[i] = s;
    bytes[s] += varintSize(size) + size;
  }
  // Layout: the segments one after the other in one allocation.
  const start = new Int32Array(slots);
  const cursor = new Int32Array(slots);
  let total = 0;
  for (let s = 0; s < slots; s++) {
    if (!count[s]) continue;
    start[s] = total;
    cursor[s] = total + SEGMENT_PREFIX + BATCH_HEADER;
    total += SEGMENT_PREFIX + BATCH_HEADER + bytes[s];
  }
  const buf = Buffer.allocUnsafe(total);
  // Pass 2: the records.
  const od = new Int32Array(slots);
  for (let i = 0; i < n; i++) {
    const m = messages[i];
    const s = slotOf[i];
    let pos = writeVarint(buf, cursor[s], bodyLen[i]);
    buf[pos++] = 0;
    pos = writeVarlong(buf, pos, tsDelta[i]);
    pos = writeVarint(buf, pos, od[s]++);
    const kl = keyLen[i];
    pos = writeVarint(buf, pos, kl);
    if (kl > 0) pos = put(buf, pos, m.key!, kl);
    const vl = valLen[i];
    pos = writeVarint(buf, pos, vl);
    pos = put(buf, pos, m.value, vl);
    if (m.headers) {
      const h = m.headers;
      pos = writeVarint(buf, pos, headersSize(h).count);
      for (const k in h) {
        const kb = Buffer.byteLength(k), vb = Buffer.byteLength(h[k]);
        pos = writeVarint(buf, pos, kb);
        pos = put(buf, pos, k, kb);
        pos = writeVarint(buf, pos, vb);
        pos = put(buf, pos, h[k], vb);
      }
    } else buf[pos++] = 0;
    cursor[s] = pos;
  }
  const out: PartitionSegment[] = [];
  for (let s = 0; s < slots; s++) {
    if (!count[s]) continue;
    let seg = buf.subarray(start[s], cursor[s]);
    if (gzip) {
      const packed = gzipSync(seg.subarray(SEGMENT_PREFIX + BATCH_HEADER));
      const c = Buffer.allocUnsafe(SEGMENT_PREFIX + BATCH_HEADER + packed.length);
      packed.copy(c, SEGMENT_PREFIX + BATCH_HEADER);
      seg = c;
    }
    writeSegment(seg, slotPart[s], count[s], firstTs[s], maxTs[s], gzip ? 1 : 0);
    out.push({ partition: slotPart[s], segment: seg, records: count[s] });
  }
  return out;
}

function writeSegment(seg: Buffer, partition: number, records: number, firstTs: number, maxTs: number, codec: number): void {
  seg.writeInt32BE(partition, 0);
  seg.writeInt32BE(seg.length - SEGMENT_PREFIX, 4);
  writeBatchHeader(seg, SEGMENT_PREFIX, records, firstTs, maxTs, codec);
}
