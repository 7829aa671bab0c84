/** The SQL server for outside tools (PostgreSQL wire protocol over the DuckDB catalog): the HiveServer2 role. */
export { startSqlServer, DEFAULT_PORT } from './server.ts';
export type { SqlServer, SqlServerOptions } from './server.ts';
export { resolveCredentials, credentialsFile } from './credentials.ts';
export type { Credentials } from './credentials.ts';
export { runSqlServer } from './run.ts';
