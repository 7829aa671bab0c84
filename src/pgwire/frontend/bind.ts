/**
 * Bind (frontend):
 *
 *   'B' Int32 len String portal String statement
 *       Int16 nf { Int16 paramFormat }        (0 = all text, 1 = one format for all, else one per parameter)
 *       Int16 np { Int32 n (−1 = NULL) Byte[n] value }
 *       Int16 nr { Int16 resultFormat }       (same rule, for result columns)
 */
import { ProtocolError, Reader } from '../reader.ts';

export interface BindMessage {
  portal: string;
  statement: string;
  paramFormats: number[];
  params: (Buffer | null)[];
  resultFormats: number[];
}

export function parseBind(body: Buffer): BindMessage {
  const r = new Reader(body, 'Bind');
  const portal = r.cstr();
  const statement = r.cstr();
  const nf = r.count16(2);
  const paramFormats: number[] = [];
  for (let i = 0; i < nf; i++) paramFormats.push(r.int16());
  const np = r.count16(4);
  const params: (Buffer | null)[] = [];
  for (let i = 0; i < np; i++) {
    const n = r.int32();
    params.push(n === -1 ? null : r.bytes(n));
  }
  const nr = r.count16(2);
  const resultFormats: number[] = [];
  for (let i = 0; i < nr; i++) resultFormats.push(r.int16());
  if (nf > 1 && nf !== np) throw new ProtocolError(`bind message has ${nf} parameter formats but ${np} parameters`);
  for (const f of [...paramFormats, ...resultFormats]) if (f !== 0 && f !== 1) throw new ProtocolError(`unsupported format code: ${f}`, '22023');
  return { portal, statement, paramFormats, params, resultFormats };
}

/** The format of item `i` under the 0 / 1 / n rule. */
export const formatAt = (formats: number[], i: number): 0 | 1 => ((formats.length === 1 ? formats[0] : formats[i]) === 1 ? 1 : 0);
