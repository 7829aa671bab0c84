export type * from './types.ts';
export { parseFilter, matchFilter, matchesFilters } from './filter.ts';
export { ensureDriverTable, drivingRecordCells } from './driver.ts';
export { LmdbTableStore } from './lmdb.ts';
import { UserError } from '../core/errors.ts';
import type { TableStore } from './types.ts';

export type TableStoreOptions = { kind: 'lmdb'; path: string } | { kind: 'postgres'; url: string; schema?: string };

export async function openTableStore(opts: TableStoreOptions): Promise<TableStore> {
  if (opts.kind === 'lmdb') {
    const { LmdbTableStore } = await import('./lmdb.ts');
    return new LmdbTableStore(opts.path);
  }
  throw new UserError('the PostgreSQL table store is not built yet; use the embedded LMDB store (omit --postgres)');
}
