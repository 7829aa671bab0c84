import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('sql-server')
    .description('SQL for outside tools over the PostgreSQL wire protocol (psql, R, Python, JDBC, BI tools): the HiveServer2 role')
    .option('--host <addr>', 'address to bind (a non-loopback one needs SMARTCAR_SQL_USER / SMARTCAR_SQL_PASSWORD)', '127.0.0.1')
    .option('--port <n>', 'TCP port (0 = any free port)', '10000')
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .option('--max-sessions <n>', 'concurrent sessions allowed', '64')
    .option('--statement-timeout <ms>', 'longest a statement may run, in milliseconds', '300000')
    .option('--tls-cert <file>', 'PEM certificate (chain) to offer TLS with (or SMARTCAR_SQL_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key of that certificate (or SMARTCAR_SQL_TLS_KEY)')
    .option('--metrics-port <n>', 'also serve /health and /metrics on 127.0.0.1 (0 = any free port)')
    .addHelpText('after', `
Sessions are read-only and see the lake's tables and marts (DuckDB's SQL dialect). On first start
the credentials are written to <data>/state/sql-server/credentials.json; the banner says where.

Examples:
  $ smartcar sql-server
  $ PGPASSWORD=$(jq -r .password smartcar-data/state/sql-server/credentials.json) \\
      psql "postgres://smartcar@127.0.0.1:10000/smartcar" -c '\\dt'
  $ SMARTCAR_SQL_USER=analyst SMARTCAR_SQL_PASSWORD=secret smartcar sql-server --host 0.0.0.0 \\
      --tls-cert server.crt --tls-key server.key     # then psql "…?sslmode=verify-full&sslrootcert=ca.crt"
  $ Rscript -e 'library(DBI); con <- dbConnect(RPostgreSQL::PostgreSQL(), host="127.0.0.1", port=10000,
      user="smartcar", password="…", dbname="smartcar"); dbListTables(con)'`)
    .action(async (o) => {
      const { serveForever } = await import('./run.ts');
      const { loadRootConfig } = await import('../core/config.ts');
      const { UserError } = await import('../core/errors.ts');
      const int = (v: string, flag: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag} must be a non-negative integer, got ${JSON.stringify(v)}`);
        return n;
      };
      const cfg = loadRootConfig(undefined);
      await serveForever({
        dataDir: o.data ?? cfg.dataDir,
        host: o.host,
        port: int(o.port, '--port'),
        maxSessions: int(o.maxSessions, '--max-sessions'),
        statementTimeoutMs: int(o.statementTimeout, '--statement-timeout'),
        metricsPort: o.metricsPort === undefined ? undefined : int(o.metricsPort, '--metrics-port'),
        tlsCert: o.tlsCert,
        tlsKey: o.tlsKey,
      });
    });
}
