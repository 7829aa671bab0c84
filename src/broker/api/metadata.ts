/**
 * Metadata Request (Version: 0–3) => [topics]                  (v0: empty = all topics; v1+: null = all)
 * Metadata Request (Version: 4–5) => [topics] allow_auto_topic_creation:boolean
 *   topics => name:string
 * Metadata Response (Version: 0–5) => throttle_time_ms:int32(v3+) [brokers] cluster_id:nullable_string(v2+)
 *                                     controller_id:int32(v1+) [topics]
 *   brokers => node_id:int32 host:string port:int32 rack:nullable_string(v1+)
 *   topics => error_code:int16 name:string is_internal:boolean(v1+) [partitions]
 *     partitions => error_code:int16 partition_index:int32 leader_id:int32 [replica_nodes:int32] [isr_nodes:int32]
 *                   [offline_replicas:int32](v5+)
 *
 * One node (0) leads every partition. A topic asked for by name is auto-created when allowed.
 */
import { API, E, isValidTopicName, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const metadata: ApiHandler = {
  key: API.Metadata,
  versions: [0, 5],
  handle({ version: v, r, conn }, b) {
    const names = r.array((x) => x.string());
    const allowCreate = v >= 4 ? r.bool() : true;
    const wanted = names === null || (v === 0 && names.length === 0) ? [...b.storage.topics.keys()] : names;
    const w = new Writer();
    throttle(w, v, 3);
    w.array([b.nodeId], (x, node) => { x.int32(node).string(conn.advertisedHost).int32(b.port); if (v >= 1) x.string(null); });
    if (v >= 2) w.string('smartcar');
    if (v >= 1) w.int32(b.nodeId);
    w.array(wanted, (x, t) => {
      const logs = b.ensureTopic(t, allowCreate);
      x.int16(logs ? E.NONE : isValidTopicName(t) ? E.UNKNOWN_TOPIC_OR_PARTITION : E.INVALID_TOPIC_EXCEPTION).string(t);
      if (v >= 1) x.bool(false);
      x.array(logs ? logs.map((_, i) => i) : [], (y, p) => {
        y.int16(E.NONE).int32(p).int32(b.nodeId).array([b.nodeId], (z, n) => z.int32(n)).array([b.nodeId], (z, n) => z.int32(n));
        if (v >= 5) y.array([], () => {});
      });
    });
    return w;
  },
};
