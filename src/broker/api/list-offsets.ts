/**
 * ListOffsets Request (Version: 1–2) => replica_id:int32 isolation_level:int8(v2+) [topics]
 *   topics => name:string [partitions]
 *     partitions => partition_index:int32 timestamp:int64       (-1 = the log end, -2 = the log start)
 * ListOffsets Response (Version: 1–2) => throttle_time_ms:int32(v2+) [topics]
 *   topics => name:string [partitions]
 *     partitions => partition_index:int32 error_code:int16 timestamp:int64 offset:int64
 */
import { API, E, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const listOffsets: ApiHandler = {
  key: API.ListOffsets,
  versions: [1, 2],
  handle({ version: v, r }, b) {
    r.int32();
    if (v >= 2) r.int8();
    const topics = r.array((x) => ({ name: x.string(), parts: x.array((y) => ({ p: y.int32(), ts: y.int64() })) ?? [] })) ?? [];
    const w = new Writer();
    throttle(w, v, 2);
    w.array(topics, (x, t) => x.string(t.name).array(t.parts, (y, pp) => {
      const l = b.storage.topics.get(t.name)?.[pp.p];
      if (!l) { y.int32(pp.p).int16(E.UNKNOWN_TOPIC_OR_PARTITION).int64(-1n).int64(-1n); return; }
      const offset = pp.ts === -1n ? l.leo : pp.ts === -2n ? l.logStart : l.offsetForTime(pp.ts);
      y.int32(pp.p).int16(E.NONE).int64(-1n).int64(offset);
    }));
    return w;
  },
};
