/**
 * Record batch v2 (magic 2), the unit of storage and transfer:
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 (CRC-32C
 *   of everything after it) | attributes int16 | lastOffsetDelta int32 | firstTimestamp int64 |
 *   maxTimestamp int64 | producerId int64 | producerEpoch int16 | baseSequence int32 | records [..]
 *
 * The broker stores batches as the producer sent them (compressed or not); it only assigns the base
 * offset, which lies outside the CRC, so no batch is re-encoded.
 */
import { crc32c } from './crc32c.ts';

/** Bytes of a batch before its first record (baseOffset … the records count). */
export const BATCH_HEADER = 61;

export interface BatchInfo {
  /** Position of the batch in the buffer, and its whole size (12 + batchLength). */
  pos: number;
  size: number;
  baseOffset: bigint;
  lastOffsetDelta: number;
  maxTimestamp: bigint;
  recordCount: number;
}

export class BatchError extends Error {}

/** Splits a buffer of concatenated batches; throws BatchError on a bad one unless `tolerateTail`. */
export function scanBatches(buf: Buffer, verifyCrc = true, tolerateTail = false): { batches: BatchInfo[]; validBytes: number } {
  const batches: BatchInfo[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const fail = (why: string) => {
      if (tolerateTail) return true;
      throw new BatchError(why);
    };
    if (buf.length - pos < BATCH_HEADER) { if (fail('truncated batch header')) break; }
    const batchLength = buf.readInt32BE(pos + 8);
    const size = 12 + batchLength;
    if (batchLength < BATCH_HEADER - 12 || pos + size > buf.length) { if (fail('batch length beyond the data')) break; }
    const magic = buf.readInt8(pos + 16);
    if (magic !== 2) { if (fail(`unsupported record batch magic ${magic} (only v2)`)) break; }
    if (verifyCrc) {
      const crc = buf.readUInt32BE(pos + 17);
      if (crc32c(buf, pos + 21, pos + size) !== crc) { if (fail('CRC mismatch')) break; }
    }
    batches.push({
      pos, size,
      baseOffset: buf.readBigInt64BE(pos),
      lastOffsetDelta: buf.readInt32BE(pos + 23),
      maxTimestamp: buf.readBigInt64BE(pos + 35),
      recordCount: buf.readInt32BE(pos + 57),
    });
    pos += size;
  }
  return { batches, validBytes: pos };
}

/**
 * Writes the header of the batch that fills `buf` from `at` to its end, its records already in place
 * after the header: base offset 0 (the broker assigns it), no producer id/epoch/sequence
 * (non-idempotent), `codec` in attributes bits 0–2 (0 none, 1 gzip), then the CRC over the rest.
 */
export function writeBatchHeader(buf: Buffer, at: number, records: number, firstTimestamp: number, maxTimestamp: number, codec: number): void {
  let o = buf.writeBigInt64BE(0n, at);
  o = buf.writeInt32BE(buf.length - at - 12, o);
  o = buf.writeInt32BE(-1, o);
  o = buf.writeInt8(2, o);
  const crcAt = o;
  o += 4;
  o = buf.writeInt16BE(codec, o);
  o = buf.writeInt32BE(records - 1, o);
  o = buf.writeBigInt64BE(BigInt(firstTimestamp), o);
  o = buf.writeBigInt64BE(BigInt(maxTimestamp), o);
  o = buf.writeBigInt64BE(-1n, o);
  o = buf.writeInt16BE(-1, o);
  o = buf.writeInt32BE(-1, o);
  buf.writeInt32BE(records, o);
  buf.writeUInt32BE(crc32c(buf, crcAt + 4), crcAt);
}
