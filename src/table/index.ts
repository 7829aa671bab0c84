/**
 * The table store (the HBase role): tables of rows with column families, in embedded LMDB or PostgreSQL,
 * behind one interface (types.ts); LMDB and PostgreSQL are loaded only when opened.
 */
export type * from './types.ts';
export { parseFilter, matchFilter, matchesFilters } from './filter.ts';
export { ensureDriverTable, drivingRecordCells, DrivingRows } from './driver.ts';
import type { TableStore } from './types.ts';

export type TableStoreOptions = { kind: 'lmdb'; path: string } | { kind: 'postgres'; url: string; schema?: string };

export async function openTableStore(opts: TableStoreOptions): Promise<TableStore> {
  if (opts.kind === 'lmdb') {
    const { LmdbTableStore } = await import('./lmdb.ts');
    return new LmdbTableStore(opts.path);
  }
  const { checkPostgres } = await import('./reach.ts');
  await checkPostgres(opts.url);
  const { PostgresTableStore } = await import('./postgres.ts');
  return new PostgresTableStore(opts.url, opts.schema);
}
