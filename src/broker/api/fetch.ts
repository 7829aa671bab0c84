/**
 * Fetch Request (Version: 4–6) => replica_id:int32 max_wait_ms:int32 min_bytes:int32 max_bytes:int32
 *                                 isolation_level:int8 [topics]
 *   topics => topic:string [partitions]
 *     partitions => partition:int32 fetch_offset:int64 log_start_offset:int64(v5+) partition_max_bytes:int32
 * Fetch Response (Version: 4–6) => throttle_time_ms:int32 [responses]
 *   responses => topic:string [partitions]
 *     partitions => partition_index:int32 error_code:int16 high_watermark:int64 last_stable_offset:int64
 *                   log_start_offset:int64(v5+) [aborted_transactions] records:bytes
 *
 * With less than min_bytes available, the request waits (up to max_wait_ms) for a produce to one of its
 * partitions. The first partition always gets at least one batch, even past max_bytes, so that a batch
 * larger than the limits is never stuck.
 */
import { API, E, Writer } from '../../kafka/index.ts';
import type { PartitionLog } from '../log.ts';
import { throttle, type ApiHandler } from './types.ts';

export const fetch: ApiHandler = {
  key: API.Fetch,
  versions: [4, 6],
  async handle({ version: v, r }, b) {
    r.int32();
    const maxWait = r.int32();
    const minBytes = r.int32();
    const maxBytes = r.int32();
    r.int8();
    const topics = r.array((x) => ({
      name: x.string(),
      parts: x.array((y) => { const p = y.int32(); const offset = y.int64(); if (v >= 5) y.int64(); return { p, offset, max: y.int32() }; }) ?? [],
    })) ?? [];
    const collect = () => {
      let total = 0;
      const out = topics.map((t) => ({
        name: t.name,
        parts: t.parts.map((pp) => {
          const l = b.storage.topics.get(t.name)?.[pp.p];
          if (!l) return { p: pp.p, error: E.UNKNOWN_TOPIC_OR_PARTITION, hw: -1n, start: -1n, data: Buffer.alloc(0) };
          if (pp.offset < l.logStart || pp.offset > l.leo) return { p: pp.p, error: E.OFFSET_OUT_OF_RANGE, hw: l.leo, start: l.logStart, data: Buffer.alloc(0) };
          const room = Math.max(0, Math.min(pp.max, maxBytes - total));
          const data = room > 0 || total === 0 ? l.read(pp.offset, Math.max(room, 1)) : Buffer.alloc(0);
          total += data.length;
          return { p: pp.p, error: E.NONE, hw: l.leo, start: l.logStart, data };
        }),
      }));
      return { out, total };
    };
    let res = collect();
    if (res.total < Math.max(1, minBytes) && maxWait > 0) {
      const logs = topics.flatMap((t) => t.parts.map((pp) => b.storage.topics.get(t.name)?.[pp.p]).filter((l): l is PartitionLog => !!l));
      if (logs.length) {
        await b.storage.wait(logs, maxWait);
        res = collect();
      }
    }
    const w = new Writer();
    throttle(w, v, 1);
    w.array(res.out, (x, t) => x.string(t.name).array(t.parts, (y, p) => {
      y.int32(p.p).int16(p.error).int64(p.hw).int64(p.hw);
      if (v >= 5) y.int64(p.start);
      y.array([], () => {});
      y.bytes(p.data);
    }));
    return w;
  },
};
