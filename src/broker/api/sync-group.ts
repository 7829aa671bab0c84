/**
 * SyncGroup Request (Version: 0–1) => group_id:string generation_id:int32 member_id:string [assignments]
 *   assignments => member_id:string assignment:bytes       (sent by the leader only)
 * SyncGroup Response (Version: 0–1) => throttle_time_ms:int32(v1+) error_code:int16 assignment:bytes
 *
 * A follower's SyncGroup waits for the leader's.
 */
import { API, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const syncGroup: ApiHandler = {
  key: API.SyncGroup,
  versions: [0, 1],
  async handle({ version: v, r }, b) {
    const group = r.string();
    const gen = r.int32();
    const member = r.string();
    const assignments = r.array((x) => ({ id: x.string(), assignment: Buffer.from(x.bytes() ?? Buffer.alloc(0)) })) ?? [];
    const res = await b.groups.sync(group, gen, member, assignments);
    const w = new Writer();
    throttle(w, v, 1);
    w.int16(res.error).bytes(res.assignment);
    return w;
  },
};
