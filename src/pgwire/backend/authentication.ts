/**
 * Authentication messages (backend, type 'R'):
 *
 *   AuthenticationOk            'R' Int32(8)  Int32(0)
 *   AuthenticationSASL          'R' Int32 len Int32(10) { String mechanism } Byte1(0)
 *   AuthenticationSASLContinue  'R' Int32 len Int32(11) Byte[n] server-first-message
 *   AuthenticationSASLFinal     'R' Int32 len Int32(12) Byte[n] server-final-message
 */
import type { Out } from '../out.ts';

export function authenticationOk(out: Out): void {
  out.begin('R').int32(0).end();
}

export function authenticationSasl(out: Out, mechanisms: string[]): void {
  out.begin('R').int32(10);
  for (const m of mechanisms) out.cstr(m);
  out.int8(0).end();
}

export function authenticationSaslContinue(out: Out, data: string): void {
  out.begin('R').int32(11).bytes(Buffer.from(data, 'utf8')).end();
}

export function authenticationSaslFinal(out: Out, data: string): void {
  out.begin('R').int32(12).bytes(Buffer.from(data, 'utf8')).end();
}
