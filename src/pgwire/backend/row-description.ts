/**
 * RowDescription (backend):
 *
 *   'T' Int32 len Int16 nfields { String name Int32 tableOid Int16 columnAttr Int32 typeOid Int16 typlen Int32 typmod Int16 format }
 */
import type { Out } from '../out.ts';
import type { PgType } from '../types.ts';

export interface Field extends PgType {
  name: string;
  /** 0 text, 1 binary. */
  format: 0 | 1;
}

export function rowDescription(out: Out, fields: Field[]): void {
  out.begin('T').int16(fields.length);
  for (const f of fields) out.cstr(f.name).int32(0).int16(0).int32(f.oid).int16(f.typlen).int32(f.typmod).int16(f.format);
  out.end();
}
