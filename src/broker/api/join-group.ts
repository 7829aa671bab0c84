/**
 * JoinGroup Request (Version: 0–2) => group_id:string session_timeout_ms:int32 rebalance_timeout_ms:int32(v1+)
 *                                     member_id:string protocol_type:string [protocols]
 *   protocols => name:string metadata:bytes
 * JoinGroup Response (Version: 0–2) => throttle_time_ms:int32(v2+) error_code:int16 generation_id:int32
 *                                      protocol_name:string leader:string member_id:string [members]
 *   members => member_id:string metadata:bytes              (filled for the leader only)
 *
 * Answered when the round completes (groups.ts), which may be a while: the connection's later
 * requests wait behind it, as in Kafka.
 */
import { API, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const joinGroup: ApiHandler = {
  key: API.JoinGroup,
  versions: [0, 2],
  async handle({ version: v, r, clientId, conn }, b) {
    const group = r.string();
    const session = r.int32();
    const rebalance = v >= 1 ? r.int32() : session;
    const member = r.string();
    const ptype = r.string();
    const protocols = r.array((x) => ({ name: x.string(), metadata: Buffer.from(x.bytes() ?? Buffer.alloc(0)) })) ?? [];
    const res = await b.groups.join(group, member, clientId, conn.remote, session, rebalance, ptype, protocols);
    const w = new Writer();
    throttle(w, v, 2);
    w.int16(res.error).int32(res.generation).string(res.protocol).string(res.leader).string(res.memberId);
    w.array(res.members, (x, mm) => x.string(mm.id).bytes(mm.metadata));
    return w;
  },
};
