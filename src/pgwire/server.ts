/**
 * The SQL server (the HiveServer2 role): PostgreSQL protocol 3.0 over TCP, sessions over one shared
 * DuckDB catalog. Listens on 127.0.0.1 by default; a non-loopback address is refused unless the
 * credentials were configured (environment or config), not generated.
 *
 * TLS: with a certificate and key configured (`tls`), an SSLRequest is answered 'S' and the session continues
 * inside TLS (psql `sslmode=require` / `verify-full`); without one it is answered 'N' and the client decides.
 * Plain connections stay allowed either way, as PostgreSQL's default `host` lines allow them.
 *
 * Limits, each a session's end and never the server's: `maxSessions` concurrent sessions (53300),
 * `maxMessage` bytes per frontend message (54000), `statementTimeoutMs` per statement (57014).
 */
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { UserError, createLogger, isLoopback } from '../core/index.ts';
import type { SqlEngine } from '../sql/index.ts';
import type { Credentials } from './credentials.ts';
import { makeVerifier } from '../core/index.ts';
import { newSecret, Session } from './session.ts';

export const DEFAULT_PORT = 10000;

export interface SqlServerOptions {
  engine: SqlEngine;
  credentials: Credentials;
  host?: string;
  port?: number;
  maxSessions?: number;
  statementTimeoutMs?: number;
  maxMessage?: number;
  /** The flag a busy port's message names. */
  portFlag?: string;
  /** PEM files of the server's certificate (chain) and key: SSLRequest is then answered 'S'. */
  tls?: { cert: string; key: string };
}

/** SSLRequest: Int32 length 8, Int32 80877103. */
const SSL_REQUEST_CODE = 80877103;

function tlsContext(o: { cert: string; key: string }): tls.SecureContext {
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new UserError(`cannot read the TLS ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  };
  try {
    return tls.createSecureContext({ cert: read(o.cert, 'certificate'), key: read(o.key, 'key'), minVersion: 'TLSv1.2' });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`the TLS certificate ${o.cert} and key ${o.key} do not make a usable pair: ${(e as Error).message}`);
  }
}

export interface SqlServer {
  host: string;
  port: number;
  sessions(): number;
  close(): Promise<void>;
}

export async function startSqlServer(o: SqlServerOptions): Promise<SqlServer> {
  const host = o.host ?? '127.0.0.1';
  if (!isLoopback(host) && !o.credentials.configured) {
    throw new UserError(`refusing to listen on ${host} without configured credentials: set SMARTCAR_SQL_USER and SMARTCAR_SQL_PASSWORD (or bind 127.0.0.1)`);
  }
  const log = createLogger('sql-server');
  const maxSessions = o.maxSessions ?? 64;
  const sessions = new Map<number, Session>();
  let nextPid = 1000 + Math.floor(Math.random() * 1000);
  const verifier = makeVerifier(o.credentials.password);
  const ctx = {
    engine: o.engine,
    user: o.credentials.user,
    verifier,
    statementTimeoutMs: o.statementTimeoutMs ?? 5 * 60_000,
    maxMessage: o.maxMessage ?? 64 * 1024 * 1024,
    serverVersion: '15.0 (smartcar 0.1.0 over DuckDB)',
    register(s: Session) {
      const key = { pid: nextPid++, secret: newSecret() };
      sessions.set(key.pid, s);
      return key;
    },
    unregister(s: Session) {
      if (sessions.get(s.key.pid) === s) sessions.delete(s.key.pid);
    },
    cancel(pid: number, secret: number) {
      const s = sessions.get(pid);
      if (s && s.key.secret === secret) s.cancel();
    },
    admit: () => sessions.size < maxSessions,
    log: (event: string, fields: Record<string, unknown> = {}) => log.info(fields, event),
  };
  const secure = o.tls ? tlsContext(o.tls) : undefined;
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    if (!secure) {
      new Session(socket, ctx);
      return;
    }
    // The first frame decides: an SSLRequest is answered 'S' and the session runs inside TLS; anything else is
    // handed, as it came, to a plain session. (A client sends nothing after SSLRequest until it has the answer.)
    socket.once('data', (first: Buffer) => {
      if (first.length === 8 && first.readInt32BE(0) === 8 && first.readInt32BE(4) === SSL_REQUEST_CODE) {
        socket.write('S');
        const t = new tls.TLSSocket(socket, { isServer: true, secureContext: secure });
        t.on('error', (err) => {
          log.info({ err: err.message }, 'TLS handshake failed');
          socket.destroy();
        });
        new Session(t, ctx);
        return;
      }
      new Session(socket, ctx);
      socket.emit('data', first);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new UserError(`port ${o.port ?? DEFAULT_PORT} on ${host} is in use; choose another with ${o.portFlag ?? '--port'} (0 = any free port)`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new UserError(`cannot listen on ${host}: no such local address`));
      else reject(err);
    });
    server.listen(o.port ?? DEFAULT_PORT, host, () => resolve());
  });
  server.on('error', (err) => log.error({ err: err.message }, 'listener error'));
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    sessions: () => sessions.size,
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
