export { openCatalog } from './catalog.ts';
export type { Catalog, QueryResult, QueryStream } from './catalog.ts';
export { buildMart, buildMartWith, copyDriveDay, martSql, recoverPartitions, partitionKey } from './marts.ts';
export type { MartResult, QualityCheck } from './marts.ts';
export { MARTS, lakePaths, lakeViews } from './lake.ts';
export type { MartName } from './lake.ts';
export { loadReference } from './load.ts';
export { compactStatusDay } from './compact.ts';
export { swapIn, tempPartition } from './partition.ts';
