/** ReadyForQuery (backend): 'Z' Int32(5) Byte1 status — 'I' idle, 'T' in a transaction block, 'E' in a failed one. */
import type { Out } from '../out.ts';

export type TxStatus = 'I' | 'T' | 'E';

export function readyForQuery(out: Out, status: TxStatus): void {
  out.begin('Z').int8(status.charCodeAt(0)).end();
}
