/**
 * Short backend messages without much of a body:
 *
 *   CommandComplete      'C' Int32 len String tag ("SELECT 5", "BEGIN", "SET", "FETCH 100", "DECLARE CURSOR")
 *   EmptyQueryResponse   'I' Int32(4)
 *   ParseComplete '1', BindComplete '2', CloseComplete '3', NoData 'n', PortalSuspended 's'   (each Int32(4))
 */
import type { Out } from '../out.ts';

export function commandComplete(out: Out, tag: string): void {
  out.begin('C').cstr(tag).end();
}

export type Bare = 'I' | '1' | '2' | '3' | 'n' | 's';
export const EMPTY_QUERY: Bare = 'I';
export const PARSE_COMPLETE: Bare = '1';
export const BIND_COMPLETE: Bare = '2';
export const CLOSE_COMPLETE: Bare = '3';
export const NO_DATA: Bare = 'n';
export const PORTAL_SUSPENDED: Bare = 's';

export function bare(out: Out, type: Bare): void {
  out.begin(type).end();
}
