/**
 * Heartbeat Request (Version: 0–1) => group_id:string generation_id:int32 member_id:string
 * Heartbeat Response (Version: 0–1) => throttle_time_ms:int32(v1+) error_code:int16
 *   (REBALANCE_IN_PROGRESS tells the member to join again)
 */
import { API, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const heartbeat: ApiHandler = {
  key: API.Heartbeat,
  versions: [0, 1],
  handle({ version: v, r }, b) {
    const err = b.groups.heartbeat(r.string(), r.int32(), r.string());
    const w = new Writer();
    throttle(w, v, 1);
    return w.int16(err);
  },
};
