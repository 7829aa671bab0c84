/**
 * The SQL role: the lake's catalog and marts over DuckDB (the Hive role), and the engine behind the
 * SQL endpoint. DuckDB is loaded on first use (openCatalog, openSqlEngine, buildMart), not when this
 * module is imported, so the scheduler and the command line can import it and stay light.
 */
import type * as catalog from './catalog.ts';

export async function openCatalog(opts: Parameters<typeof catalog.openCatalog>[0]): Promise<catalog.Catalog> {
  return (await import('./catalog.ts')).openCatalog(opts);
}

export { openSqlEngine } from './cli.ts';

export type { Catalog, Int32Result, QueryResult, QueryStream } from './catalog.ts';
export { buildMart, buildMartWith, copyDriveDay, martSql, recoverPartitions, partitionKey } from './marts.ts';
export type { MartResult, QualityCheck } from './marts.ts';
export { ANALYSIS_TABLES, MARTS, lakePaths, lakeViews } from './lake.ts';
export type { AnalysisTable, MartName } from './lake.ts';
export { loadReference } from './load.ts';
export { compactStatusDay } from './compact.ts';
export { swapIn, tempPartition } from './partition.ts';
export { checkReadOnly, readOnlyKind, ReadOnlyViolation } from './readonly.ts';
export type { SqlEngine, SqlSession, SqlStatement, SqlRows, SqlChunk, SqlColumn, SqlColumnReader, SqlType, StatementKind } from './engine.ts';
