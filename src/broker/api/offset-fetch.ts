/**
 * OffsetFetch Request (Version: 1–3) => group_id:string [topics]      (v2+: null = every committed partition)
 *   topics => name:string [partition_indexes:int32]
 * OffsetFetch Response (Version: 1–3) => throttle_time_ms:int32(v3+) [topics] error_code:int16(v2+)
 *   topics => name:string [partitions]
 *     partitions => partition_index:int32 committed_offset:int64 metadata:nullable_string error_code:int16
 *   (committed_offset -1: nothing committed)
 */
import { API, E, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const offsetFetch: ApiHandler = {
  key: API.OffsetFetch,
  versions: [1, 3],
  handle({ version: v, r }, b) {
    const group = r.string();
    let topics = r.array((x) => ({ name: x.string(), parts: x.array((y) => y.int32()) ?? [] }));
    if (topics === null) topics = [...b.groups.committedTopics(group)].map(([name, parts]) => ({ name, parts }));
    const w = new Writer();
    throttle(w, v, 3);
    w.array(topics, (x, t) => x.string(t.name).array(t.parts, (y, p) => {
      const o = b.groups.fetchOffset(group, t.name, p);
      y.int32(p).int64(o ? o.offset : -1n).string(o ? o.metadata : '').int16(E.NONE);
    }));
    if (v >= 2) w.int16(E.NONE);
    return w;
  },
};
