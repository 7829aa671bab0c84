/**
 * FindCoordinator Request (Version: 0–1) => key:string key_type:int8(v1+)
 * FindCoordinator Response (Version: 0–1) => throttle_time_ms:int32(v1+) error_code:int16
 *                                           error_message:nullable_string(v1+) node_id:int32 host:string port:int32
 *
 * The one node coordinates every group.
 */
import { API, E, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const findCoordinator: ApiHandler = {
  key: API.FindCoordinator,
  versions: [0, 1],
  handle({ version: v, r, conn }, b) {
    r.string();
    if (v >= 1) r.int8();
    const w = new Writer();
    throttle(w, v, 1);
    w.int16(E.NONE);
    if (v >= 1) w.string(null);
    w.int32(b.nodeId).string(conn.advertisedHost).int32(b.port);
    return w;
  },
};
