/**
 * LeaveGroup Request (Version: 0–1) => group_id:string member_id:string
 * LeaveGroup Response (Version: 0–1) => throttle_time_ms:int32(v1+) error_code:int16
 */
import { API, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const leaveGroup: ApiHandler = {
  key: API.LeaveGroup,
  versions: [0, 1],
  handle({ version: v, r }, b) {
    const err = b.groups.leave(r.string(), r.string());
    const w = new Writer();
    throttle(w, v, 1);
    return w.int16(err);
  },
};
