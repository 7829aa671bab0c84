/**
 * DataRow (backend): 'D' Int32 len Int16 ncolumns { Int32 n (−1 = NULL) Byte[n] value }
 *
 * Written straight from a DuckDB chunk (column-major) into the output buffer, row by row: VARCHAR
 * text fields are copied as bytes from DuckDB's vectors, other text fields formatted, binary fields
 * encoded per type (types.ts).
 */
import type { SqlColumnReader } from '../../sql/index.ts';
import type { Out } from '../out.ts';
import { binaryOf, textOf } from '../types.ts';
import type { Field } from './row-description.ts';

export function dataRows(out: Out, fields: Field[], columns: SqlColumnReader[], from: number, to: number): void {
  const n = fields.length;
  for (let r = from; r < to; r++) {
    out.begin('D').int16(n);
    for (let c = 0; c < n; c++) {
      const col = columns[c]!;
      const f = fields[c]!;
      if (col.utf8 && f.format === 0) {
        const b = col.utf8(r);
        if (b === null) out.int32(-1);
        else out.int32(b.length).bytes(b);
        continue;
      }
      const v = col.get(r);
      if (v === null || v === undefined) {
        out.int32(-1);
      } else if (f.format === 1) {
        const b = binaryOf(v, f.oid);
        out.int32(b.length).bytes(b);
      } else if (typeof v === 'string') {
        out.lenStr(v);
      } else {
        out.lenStr(textOf(v, f.oid)!);
      }
    }
    out.end();
  }
}
