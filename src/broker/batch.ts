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
export const BATCH_HEADER = 61;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

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
