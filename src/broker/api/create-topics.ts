/**
 * CreateTopics Request (Version: 0–2) => [topics] timeout_ms:int32 validate_only:boolean(v1+)
 *   topics => name:string num_partitions:int32 replication_factor:int16 [assignments] [configs]
 *     assignments => partition_index:int32 [broker_ids:int32]          (read, ignored)
 *     configs => name:string value:nullable_string                     (read, ignored)
 * CreateTopics Response (Version: 0–2) => throttle_time_ms:int32(v2+) [topics]
 *   topics => name:string error_code:int16 error_message:nullable_string(v1+)
 *   (num_partitions -1: the broker's default; replication factor above 1 is refused on one node)
 */
import { API, E, isValidTopicName, TOPIC_NAME_RULE, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const createTopics: ApiHandler = {
  key: API.CreateTopics,
  versions: [0, 2],
  handle({ version: v, r }, b) {
    const topics = r.array((x) => {
      const name = x.string();
      const partitions = x.int32();
      const rf = x.int16();
      x.array((y) => { y.int32(); y.array((z) => z.int32()); return 0; });
      x.array((y) => { y.string(); y.nullableString(); return 0; });
      return { name, partitions, rf };
    }) ?? [];
    r.int32();
    const validateOnly = v >= 1 ? r.bool() : false;
    const w = new Writer();
    throttle(w, v, 2);
    w.array(topics, (x, t) => {
      let err: number = E.NONE, msg: string | null = null;
      if (!isValidTopicName(t.name)) { err = E.INVALID_TOPIC_EXCEPTION; msg = TOPIC_NAME_RULE; }
      else if (b.storage.topics.has(t.name)) { err = E.TOPIC_ALREADY_EXISTS; msg = `topic '${t.name}' already exists`; }
      else if (t.partitions === 0 || t.partitions > 10_000) { err = E.INVALID_PARTITIONS; msg = 'partitions must be 1..10000 (or -1 for the default)'; }
      else if (t.rf > 1) { err = E.INVALID_REPLICATION_FACTOR; msg = 'a single-node broker has replication factor 1'; }
      else if (!validateOnly) b.storage.create(t.name, t.partitions < 0 ? b.defaultPartitions : t.partitions);
      x.string(t.name).int16(err);
      if (v >= 1) x.string(msg);
    });
    return w;
  },
};
