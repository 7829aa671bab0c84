/** ParameterDescription (backend): 't' Int32 len Int16 nparams { Int32 typeOid } — the answer to Describe of a statement. */
import type { Out } from '../out.ts';

export function parameterDescription(out: Out, oids: number[]): void {
  out.begin('t').int16(oids.length);
  for (const o of oids) out.int32(o);
  out.end();
}
