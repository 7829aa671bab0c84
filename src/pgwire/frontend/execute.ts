/** Execute (frontend): 'E' Int32 len String portal Int32 maxRows (0 = all; else stop with PortalSuspended). */
import { Reader } from '../reader.ts';

export function parseExecute(body: Buffer): { portal: string; maxRows: number } {
  const r = new Reader(body, 'Execute');
  return { portal: r.cstr(), maxRows: r.int32() };
}
