/**
 * DataRow (backend): 'D' Int32 len Int16 ncolumns { Int32 n (−1 = NULL) Byte[n] value }
 *
 * Written straight from a DuckDB chunk (column-major) into the output buffer, row by row: text
 * fields are UTF-8 written in place, binary fields are encoded per type (types.ts).
 */
import type { Out } from '../out.ts';
import { binaryOf, textOf } from '../types.ts';
import type { Field } from './row-description.ts';

export function dataRows(out: Out, fields: Field[], columns: unknown[][], from: number, to: number): void {
  const n = fields.length;
  for (let r = from; r < to; r++) {
    out.begin('D').int16(n);
    for (let c = 0; c < n; c++) {
      const v = columns[c]![r];
      const f = fields[c]!;
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
