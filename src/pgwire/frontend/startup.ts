/**
 * Untyped start-up frames (frontend), after Int32 length:
 *
 *   StartupMessage   Int32(196608 = 3.0) { String name String value } Byte1(0)   (user, database, options, application_name…)
 *   SSLRequest       Int32(80877103)                     → answered with one byte 'N' (no TLS here)
 *   GSSENCRequest    Int32(80877104)                     → 'N'
 *   CancelRequest    Int32(80877102) Int32 processId Int32 secretKey   (on a new connection; no answer)
 */
import { ProtocolError, Reader } from '../reader.ts';

export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

export type Startup =
  | { kind: 'startup'; params: Record<string, string> }
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; pid: number; secret: number };

export function parseStartup(body: Buffer): Startup {
  const r = new Reader(body, 'startup');
  const code = r.int32();
  if (code === SSL_REQUEST) return { kind: 'ssl' };
  if (code === GSSENC_REQUEST) return { kind: 'gssenc' };
  if (code === CANCEL_REQUEST) return { kind: 'cancel', pid: r.int32(), secret: r.int32() };
  if (code >> 16 !== 3) throw new ProtocolError(`unsupported frontend protocol ${code >> 16}.${code & 0xffff}: this server speaks 3.0`, '0A000');
  const params: Record<string, string> = {};
  for (;;) {
    const name = r.cstr();
    if (name === '') break;
    params[name] = r.cstr();
  }
  return { kind: 'startup', params };
}
