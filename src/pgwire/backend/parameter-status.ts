/** ParameterStatus (backend): 'S' Int32 len String name String value — a run-time parameter the client should know. */
import type { Out } from '../out.ts';

export function parameterStatus(out: Out, name: string, value: string): void {
  out.begin('S').cstr(name).cstr(value).end();
}
