/**
 * DescribeGroups Request (Version: 0–1) => [groups:string]
 * DescribeGroups Response (Version: 0–1) => throttle_time_ms:int32(v1+) [groups]
 *   groups => error_code:int16 group_id:string group_state:string protocol_type:string protocol_data:string [members]
 *     members => member_id:string client_id:string client_host:string member_metadata:bytes member_assignment:bytes
 *   (an unknown group is described as state "Dead" with no members)
 */
import { API, E, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export const describeGroups: ApiHandler = {
  key: API.DescribeGroups,
  versions: [0, 1],
  handle({ version: v, r }, b) {
    const ids = r.array((x) => x.string()) ?? [];
    const w = new Writer();
    throttle(w, v, 1);
    w.array(ids, (x, id) => {
      const d = b.groups.describe(id);
      x.int16(E.NONE).string(id).string(d.state).string(d.protocolType).string(d.protocol);
      x.array(d.members, (y, mm) => y.string(mm.id).string(mm.clientId).string(mm.host).bytes(mm.metadata).bytes(mm.assignment));
    });
    return w;
  },
};
