/**
 * The record batch encoder against kafkajs's encoder (an independent implementation, used as the byte
 * fixture) and the broker's batch scanner (CRC-32C, lengths, counts).
 */
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { crc32c, scanBatches } from '../../src/kafka/index.ts';
import { bytewiseCrc32c as bytewiseCrc } from '../support/crc32c.ts';
import { encodeBatches, MessageError } from '../../src/bus/records.ts';
import type { BusMessage } from '../../src/bus/index.ts';

const require = createRequire(import.meta.url);
type Enc = { buffer: Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch(o: Record<string, unknown>): Promise<Enc> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: Record<string, unknown>) => Enc;

const T0 = 1_704_100_000_000;

/** kafkajs's batch for the same records, with the header fields a non-idempotent producer sends (-1). */
async function kafkajsBatch(ms: BusMessage[], now: number): Promise<Buffer> {
  const ts = ms.map((m) => m.timestamp ?? now);
  const b = await RecordBatch({
    firstTimestamp: ts[0], maxTimestamp: Math.max(...ts), partitionLeaderEpoch: -1, producerEpoch: -1, firstSequence: -1, lastOffsetDelta: ms.length - 1,
    records: ms.map((m, i) => Record({
      offsetDelta: i, timestampDelta: ts[i] - ts[0],
      key: m.key == null ? null : Buffer.from(m.key), value: Buffer.from(m.value), headers: m.headers,
    })),
  });
  return b.buffer;
}

describe('record batch v2 encoding', () => {
  it('computes CRC-32C by 8-byte slices exactly as the bytewise table does', () => {
    expect(crc32c(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    for (let n = 0; n < 300; n++) {
      const b = crypto.randomBytes(n * 13 + (n % 9));
      const start = Math.min(n % 7, b.length), end = Math.max(start, b.length - (n % 5));
      expect(crc32c(b, start, end)).toBe(bytewiseCrc(b, start, end));
    }
  });

  it('writes the same bytes as kafkajs for keys, null keys, headers, empty and long values, and timestamp deltas of every size', async () => {
    const ms: BusMessage[] = [
      { key: 'A0001', value: '20240101101530,A0001,1,0,F,N,80,A01', timestamp: T0 },
      { key: null, value: '', timestamp: T0 + 1 },
      { key: '', value: 'x'.repeat(63), headers: { a: '1', 'ü-key': 'välue', empty: '' }, timestamp: T0 + 64 },
      { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(64, 7), timestamp: T0 + 8191 },
      { key: 'k', value: 'y'.repeat(8192), timestamp: T0 + 2 ** 31 + 5 },
      { key: 'k', value: 'z'.repeat(300_000), timestamp: T0 + 2 ** 40 },
      { key: 'k', value: 'now' },
    ];
    const now = T0 + 2 ** 41;
    const [seg] = encodeBatches(ms, new Int32Array(ms.length), 1, now, false);
    expect(seg.partition).toBe(0);
    expect(seg.records).toBe(ms.length);
    expect(seg.segment.readInt32BE(0)).toBe(0);
    expect(seg.segment.readInt32BE(4)).toBe(seg.segment.length - 8);
    expect(seg.segment.subarray(8).equals(await kafkajsBatch(ms, now))).toBe(true);
  });

  it('splits a send into one valid batch per partition, offsets counted per partition, records in send order', () => {
    const ms: BusMessage[] = Array.from({ length: 1000 }, (_, i) => ({ key: `A${i % 13}`, value: `line-${i}`, timestamp: T0 + (i % 17) }));
    const parts = new Int32Array(ms.length).map((_, i) => (i * 7) % 5 === 4 ? 4 : i % 3);
    const segs = encodeBatches(ms, parts, 6, T0, false);
    expect(segs.map((s) => s.partition)).toEqual([0, 1, 2, 4]);
    let total = 0;
    for (const s of segs) {
      const { batches } = scanBatches(s.segment.subarray(8));
      expect(batches.length).toBe(1);
      const b = batches[0];
      const want = ms.filter((_, i) => parts[i] === s.partition);
      expect(b.recordCount).toBe(want.length);
      expect(b.lastOffsetDelta).toBe(want.length - 1);
      expect(Number(b.maxTimestamp)).toBe(Math.max(...want.map((m) => m.timestamp!)));
      // The values appear in send order within the batch.
      const text = s.segment.toString('latin1');
      let at = 0;
      for (const m of want) {
        const found = text.indexOf(String(m.value), at);
        expect(found).toBeGreaterThan(at - 1);
        at = found + String(m.value).length;
      }
      total += b.recordCount;
    }
    expect(total).toBe(ms.length);
  });

  it('starts further batches for a partition past maxBatchBytes, each under the cap, offsets from 0 again', () => {
    const ms: BusMessage[] = Array.from({ length: 500 }, (_, i) => ({ key: 'k', value: `v${i}-${'x'.repeat(i % 90)}`, timestamp: T0 + i }));
    const parts = new Int32Array(ms.length).map((_, i) => i % 2);
    const segs = encodeBatches(ms, parts, 2, T0, false, 2000);
    expect(segs.length).toBeGreaterThan(10);
    // The first batch of each partition first, then the overflow batches in order.
    expect(segs.slice(0, 2).map((s) => s.partition)).toEqual([0, 1]);
    const next = [0, 1];
    for (const s of segs) {
      expect(s.segment.length - 8).toBeLessThanOrEqual(2000);
      const [b] = scanBatches(s.segment.subarray(8)).batches;
      expect(b.recordCount).toBe(s.records);
      expect(b.lastOffsetDelta).toBe(s.records - 1);
      // The batch's values are the partition's next ones.
      const text = s.segment.toString('latin1');
      for (let r = 0; r < s.records; r++) {
        expect(text).toContain(`v${next[s.partition]}-`);
        next[s.partition] += 2;
      }
    }
    expect(next).toEqual([500, 501]);
    // A record over the cap on its own still goes, alone in its batch (the broker will judge it).
    const big = encodeBatches([{ value: 'a' }, { value: 'b'.repeat(5000) }, { value: 'c' }], new Int32Array(3), 1, T0, false, 2000);
    expect(big.map((s) => s.records)).toEqual([1, 1, 1]);
  });

  it('gzips the records section only, with codec 1 in the attributes and a valid CRC', () => {
    const ms: BusMessage[] = Array.from({ length: 200 }, (_, i) => ({ key: 'A0001', value: `20240101101530,A0001,${i},0,F,N,80,A01`, timestamp: T0 + i }));
    const [plain] = encodeBatches(ms, new Int32Array(ms.length), 1, T0, false);
    const [packed] = encodeBatches(ms, new Int32Array(ms.length), 1, T0, true);
    const { batches } = scanBatches(packed.segment.subarray(8));
    expect(batches[0].recordCount).toBe(200);
    expect(packed.segment.readInt16BE(8 + 21) & 7).toBe(1);
    expect(packed.segment.length).toBeLessThan(plain.segment.length / 3);
    expect(gunzipSync(packed.segment.subarray(8 + 61)).equals(plain.segment.subarray(8 + 61))).toBe(true);
  });

  it('names the first bad message and what is wrong with it', () => {
    const bad = (m: unknown) => () => encodeBatches([{ value: 'ok' }, m as BusMessage], new Int32Array(2), 1, T0, false);
    expect(bad(null)).toThrow(MessageError);
    expect(bad(null)).toThrow('message 1 of the send: expected an object');
    expect(bad({ value: 5 })).toThrow('message 1 of the send: value must be a string or a Buffer, got number');
    expect(bad({ value: 'v', key: 12 })).toThrow('key must be a string, a Buffer or null, got number');
    expect(bad({ value: 'v', timestamp: Number.NaN })).toThrow('timestamp must be an integer of epoch milliseconds, got NaN');
    expect(bad({ value: 'v', headers: { a: null } })).toThrow('header "a" must be a string, got object');
  });
});
