/**
 * 'p' messages (frontend), read according to where authentication is:
 *
 *   SASLInitialResponse  'p' Int32 len String mechanism Int32 n (−1 = none) Byte[n] client-first-message
 *   SASLResponse         'p' Int32 len Byte[n] client-final-message
 */
import { Reader } from '../reader.ts';

export function parseSaslInitial(body: Buffer): { mechanism: string; data: string } {
  const r = new Reader(body, 'SASLInitialResponse');
  const mechanism = r.cstr();
  const n = r.int32();
  return { mechanism, data: n < 0 ? '' : r.bytes(n).toString('utf8') };
}

export function parseSaslResponse(body: Buffer): string {
  return body.toString('utf8');
}
