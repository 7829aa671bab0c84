/** Query (frontend, simple protocol): 'Q' Int32 len String query — one or more statements separated by ';'. */
import { Reader } from '../reader.ts';

export function parseQuery(body: Buffer): string {
  return new Reader(body, 'Query').cstr();
}
