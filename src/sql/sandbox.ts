/**
 * Confining a DuckDB instance to one directory, for SQL that comes from outside (the console's notebooks,
 * the SQL endpoint): `enable_external_access = false` with `allowed_directories = [dir]`, extensions
 * neither installed nor loaded on demand, then `lock_configuration = true`, so no session can loosen the
 * settings again. `read_csv('/etc/passwd')`, `COPY … TO` elsewhere, `ATTACH`, `INSTALL`, `LOAD` and remote
 * files then fail with a permission error, whatever the SQL.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export async function confine(conn: DuckDBConnection, dir: string): Promise<void> {
  await conn.run(`SET allowed_directories = ['${(dir.replace(/\/+$/, '') + '/').replace(/'/g, "''")}']`);
  await conn.run(`SET enable_external_access = false`);
  await conn.run(`SET autoinstall_known_extensions = false`);
  await conn.run(`SET autoload_known_extensions = false`);
  await conn.run(`SET lock_configuration = true`);
}
