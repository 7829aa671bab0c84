/**
 * ListGroups Request (Version: 0–1) =>                       (empty body)
 * ListGroups Response (Version: 0–1) => throttle_time_ms:int32(v1+) error_code:int16 [groups]
 *   groups => group_id:string protocol_type:string
 */
import { API, E, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const listGroups: ApiHandler = {
  key: API.ListGroups,
  versions: [0, 1],
  handle({ version: v }, b) {
    const w = new Writer();
    throttle(w, v, 1);
    return w.int16(E.NONE).array(b.groups.list(), (x, g) => x.string(g.id).string(g.protocolType));
  },
};
