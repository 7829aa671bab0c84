/** `smartcar sql-server`: the engine, the credentials, the listener, and a banner saying how to connect. */
import { openSqlEngine } from '../sql/index.ts';
import { onShutdown } from '../core/shutdown.ts';
import { UserError } from '../core/errors.ts';
import { resolveCredentials } from './credentials.ts';
import { DEFAULT_PORT, startSqlServer, type SqlServer } from './server.ts';

export interface SqlServerRunOptions {
  dataDir: string;
  host?: string;
  port?: number;
  maxSessions?: number;
  statementTimeoutMs?: number;
  user?: string;
  password?: string;
  /** Print the banner (the CLI does; `smartcar up` prints its own). */
  banner?: boolean;
  /** Serve /health and /metrics on 127.0.0.1 at this port too (what `smartcar up` scrapes). */
  metricsPort?: number;
  /** PEM certificate and key for TLS (default: SMARTCAR_SQL_TLS_CERT / SMARTCAR_SQL_TLS_KEY). */
  tlsCert?: string;
  tlsKey?: string;
}

function tlsOf(o: SqlServerRunOptions): { cert: string; key: string } | undefined {
  const cert = o.tlsCert ?? process.env.SMARTCAR_SQL_TLS_CERT;
  const key = o.tlsKey ?? process.env.SMARTCAR_SQL_TLS_KEY;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new UserError('TLS needs both a certificate and a key: --tls-cert FILE --tls-key FILE (or SMARTCAR_SQL_TLS_CERT and SMARTCAR_SQL_TLS_KEY)');
  return { cert, key };
}

export async function runSqlServer(o: SqlServerRunOptions): Promise<SqlServer & { connect: string; credentialsSource: string }> {
  const credentials = resolveCredentials(o.dataDir, { user: o.user, password: o.password });
  const engine = await openSqlEngine({ dataDir: o.dataDir });
  let server: SqlServer;
  try {
    server = await startSqlServer({ engine, credentials, host: o.host, port: o.port ?? DEFAULT_PORT, maxSessions: o.maxSessions, statementTimeoutMs: o.statementTimeoutMs, tls: tlsOf(o),
      // Under smartcar up the port is its --sql-port.
      portFlag: process.env.SMARTCAR_PORT_FLAG ?? '--port' });
  } catch (e) {
    await engine.close();
    throw e;
  }
  const connect = `postgres://${credentials.user}@${server.host}:${server.port}/smartcar`;
  if (o.banner) {
    const tlsNote = tlsOf(o) ? ' (TLS offered: add ?sslmode=require)' : '';
    process.stderr.write(`sql-server listening${tlsNote}: psql "${connect}"\n  password: ${credentials.source}${credentials.configured ? '' : ' (or set SMARTCAR_SQL_USER / SMARTCAR_SQL_PASSWORD)'}\n`);
  }
  const close = async () => {
    await server.close();
    await engine.close();
  };
  return { ...server, close, connect, credentialsSource: credentials.source };
}

/** Runs until Ctrl-C. */
export async function serveForever(o: SqlServerRunOptions): Promise<void> {
  const s = await runSqlServer({ ...o, banner: true });
  // For a supervisor (smartcar up): where it listens and where the password is, one line each.
  process.stdout.write(`listening ${s.host}:${s.port}\ncredentials ${s.credentialsSource}\n`);
  onShutdown(() => s.close());
  if (o.metricsPort !== undefined) {
    const { serveStatus } = await import('../core/http.ts');
    const m = await serveStatus({ port: o.metricsPort, health: () => ({ status: 'ok', address: `${s.host}:${s.port}`, sessions: s.sessions() }) });
    process.stdout.write(`metrics listening ${m.host}:${m.port}\n`);
  }
  await new Promise(() => {});
}
