export { openCatalog } from './catalog.ts';
export type { Catalog, Int32Result, QueryResult } from './catalog.ts';
export { buildMart, buildMartWith, copyDriveDay, martSql, recoverPartitions, partitionKey } from './marts.ts';
export type { MartResult, QualityCheck } from './marts.ts';
export { ANALYSIS_TABLES, MARTS, lakePaths, lakeViews } from './lake.ts';
export type { AnalysisTable, MartName } from './lake.ts';
export { loadReference } from './load.ts';
export { compactStatusDay } from './compact.ts';
export { swapIn, tempPartition } from './partition.ts';
