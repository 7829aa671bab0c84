/**
 * Confining a DuckDB instance to one directory, for SQL that comes from outside (the console's notebooks,
 * the SQL endpoint): `enable_external_access = false` with `allowed_directories = [dir]`, extensions
 * neither installed nor loaded on demand, then `lock_configuration = true`, so no session can loosen the
 * settings again. `read_csv('/etc/passwd')`, `COPY … TO` elsewhere, `ATTACH`, `INSTALL`, `LOAD` and remote
 * files then fail with a permission error, whatever the SQL.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export async function confine(conn: DuckDBConnection, dir: string): Promise<void> {
  // One call, the statements run in order (each engine start pays one round trip through the thread pool, not five).
  await conn.run([
    `SET allowed_directories = ['${(dir.replace(/\/+$/, '') + '/').replace(/'/g, "''")}']`,
    `SET enable_external_access = false`,
    `SET autoinstall_known_extensions = false`,
    `SET autoload_known_extensions = false`,
    `SET lock_configuration = true`,
  ].join(';\n'));
}
