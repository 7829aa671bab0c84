/**
 * Describe (frontend): 'D' Int32 len Byte1 'S'|'P' String name
 * Close    (frontend): 'C' Int32 len Byte1 'S'|'P' String name
 */
import { ProtocolError, Reader } from '../reader.ts';

export interface TargetMessage {
  target: 'S' | 'P';
  name: string;
}

export function parseTarget(body: Buffer, what: 'Describe' | 'Close'): TargetMessage {
  const r = new Reader(body, what);
  const t = String.fromCharCode(r.byte());
  if (t !== 'S' && t !== 'P') throw new ProtocolError(`invalid ${what} message subtype ${JSON.stringify(t)}`);
  return { target: t, name: r.cstr() };
}
