/**
 * OffsetCommit Request (Version: 0–3) => group_id:string generation_id:int32(v1+) member_id:string(v1+)
 *                                        retention_time_ms:int64(v2+) [topics]
 *   topics => name:string [partitions]
 *     partitions => partition_index:int32 committed_offset:int64 commit_timestamp:int64(v1 only)
 *                   committed_metadata:nullable_string
 * OffsetCommit Response (Version: 0–3) => throttle_time_ms:int32(v3+) [topics]
 *   topics => name:string [partitions]
 *     partitions => partition_index:int32 error_code:int16
 *
 * Commits of existing partitions are appended to the offsets file and fsynced before the answer; when the
 * disk refuses the write, every partition is answered COORDINATOR_NOT_AVAILABLE (clients retry).
 */
import { API, E, Writer } from '../../kafka/index.ts';
import { StorageError } from '../log.ts';
import { throttle, type ApiHandler } from './types.ts';

export const offsetCommit: ApiHandler = {
  key: API.OffsetCommit,
  versions: [0, 3],
  handle({ version: v, r }, b) {
    const group = r.string();
    if (v >= 1) { r.int32(); r.string(); }
    if (v >= 2) r.int64();
    const topics = r.array((x) => ({
      name: x.string(),
      parts: x.array((y) => { const p = y.int32(); const offset = y.int64(); if (v === 1) y.int64(); return { p, offset, metadata: y.nullableString() ?? '' }; }) ?? [],
    })) ?? [];
    const exists = (t: string, p: number) => !!b.storage.topics.get(t)?.[p];
    const ok: { topic: string; partition: number; offset: bigint; metadata: string }[] = [];
    for (const t of topics) for (const pp of t.parts) if (exists(t.name, pp.p)) ok.push({ topic: t.name, partition: pp.p, offset: pp.offset, metadata: pp.metadata });
    let failed = false;
    try {
      b.groups.commit(group, ok);
      if (ok.length) b.storageOk();
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      b.storageFailed(err);
      failed = true;
    }
    const w = new Writer();
    throttle(w, v, 3);
    w.array(topics, (x, t) => x.string(t.name).array(t.parts, (y, pp) => y.int32(pp.p).int16(failed ? E.COORDINATOR_NOT_AVAILABLE : exists(t.name, pp.p) ? E.NONE : E.UNKNOWN_TOPIC_OR_PARTITION)));
    return w;
  },
};
