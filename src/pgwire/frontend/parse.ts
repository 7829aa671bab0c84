/** Parse (frontend): 'P' Int32 len String statement ('' = unnamed) String query Int16 n { Int32 paramTypeOid (0 = unspecified) } */
import { Reader } from '../reader.ts';

export interface ParseMessage {
  name: string;
  query: string;
  paramOids: number[];
}

export function parseParse(body: Buffer): ParseMessage {
  const r = new Reader(body, 'Parse');
  const name = r.cstr();
  const query = r.cstr();
  const n = r.count16(4);
  const paramOids: number[] = [];
  for (let i = 0; i < n; i++) paramOids.push(r.int32() >>> 0);
  return { name, query, paramOids };
}
