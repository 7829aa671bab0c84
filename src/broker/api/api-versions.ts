/**
 * ApiVersions Request (Version: 0–2) =>                           (empty body)
 * ApiVersions Response (Version: 0–2) => error_code:int16 [api_keys] throttle_time_ms:int32(v1+)
 *   api_keys => api_key:int16 min_version:int16 max_version:int16
 *
 * KIP-511: a request of a version the broker does not serve is answered in v0 form, with
 * UNSUPPORTED_VERSION and the same list, so that the client can pick a version it shares
 * (the connection loop in server.ts calls `encodeApiVersions` for that).
 */
import { API, E, Writer } from '../../kafka/index.ts';
import { throttle, type ApiHandler } from './types.ts';

export function encodeApiVersions(versions: ReadonlyMap<number, readonly [number, number]>, error: number, version: number): Writer {
  const w = new Writer().int16(error);
  w.array([...versions], (x, [k, [lo, hi]]) => x.int16(k).int16(lo).int16(hi));
  throttle(w, version, 1);
  return w;
}

/** The handler, over the table of every API served (its own entry included). */
export function apiVersions(versions: ReadonlyMap<number, readonly [number, number]>): ApiHandler {
  return {
    key: API.ApiVersions,
    versions: [0, 2],
    handle: ({ version }) => encodeApiVersions(versions, E.NONE, version),
  };
}
