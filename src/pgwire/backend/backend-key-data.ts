/** BackendKeyData (backend): 'K' Int32(12) Int32 processId Int32 secretKey — what a CancelRequest must quote. */
import type { Out } from '../out.ts';

export function backendKeyData(out: Out, pid: number, secret: number): void {
  out.begin('K').int32(pid).int32(secret).end();
}
