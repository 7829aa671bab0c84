/**
 * TLS on the SQL server, with real clients: a certificate made here by openssl, psql with sslmode=verify-full
 * against it (the client checks the chain and the address), psycopg with sslmode=require, a plain client
 * beside them, and a server without a certificate refusing sslmode=require the way PostgreSQL does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openSqlEngine } from '../../src/sql/index.ts';
import { startSqlServer } from '../../src/pgwire/index.ts';
import { martDataDir, run, startTestServer, type TestServer } from './support.ts';
import { needTool } from '../support/require.ts';

needTool('openssl', ['version'], 'the SQL server\'s TLS test (it makes its certificate)');
let root: string;
let certs: string;
let secure: TestServer;
let plain: TestServer;

beforeAll(async () => {
  ({ root } = await martDataDir('pgwire-tls', 10, 20));
  certs = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-tls-'));
  // A CA, and a server certificate for 127.0.0.1 signed by it: verify-full checks both the chain and the address.
  const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
  ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=smartcar test CA']);
  ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(certs, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ossl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext']);
  secure = await startTestServer(root, { tls: { cert: path.join(certs, 'server.crt'), key: path.join(certs, 'server.key') } });
  plain = await startTestServer(root);
}, 120_000);

afterAll(async () => {
  await secure?.stop();
  await plain?.stop();
  if (certs) fs.rmSync(certs, { recursive: true, force: true });
});

describe('TLS', () => {
  it('psql with sslmode=verify-full connects over TLS and queries', async () => {
    const r = await run('psql', ['-X', '-At', '-c', '\\conninfo', '-c', 'select count(*) from smartcar_master2income where income > 0'], {
      env: { ...secure.env, PGSSLMODE: 'verify-full', PGSSLROOTCERT: path.join(certs, 'ca.crt') },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/);
    // The same count as a plain session on the plain server.
    const c = new pg.Client({ connectionString: plain.url });
    await c.connect();
    const want = (await c.query('select count(*)::int n from smartcar_master2income where income > 0')).rows[0].n as number;
    await c.end();
    expect(want).toBeGreaterThan(0);
    expect(Number(r.stdout.trim().split('\n').at(-1))).toBe(want);
  });

  it('psycopg with sslmode=require runs a parameterised query; a plain client is still served beside it', async () => {
    const py = `
import sys, psycopg
with psycopg.connect(sys.argv[1] + '?sslmode=require') as c:
    print(c.pgconn.ssl_in_use, c.execute('select %s::int + 1', [41]).fetchone()[0])`;
    const r = await run('/usr/bin/python3', ['-c', py, secure.url]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('True 42');
    const c = new pg.Client({ connectionString: secure.url });
    await c.connect();
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await c.end();
  });

  it('a client that trusts another CA is refused by its own check', async () => {
    const other = path.join(certs, 'other');
    fs.mkdirSync(other, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'o.key', '-out', 'o.crt', '-days', '2', '-subj', '/CN=other'], { cwd: other, stdio: 'pipe' });
    const r = await run('psql', ['-X', '-c', 'select 1'], { env: { ...secure.env, PGSSLMODE: 'verify-full', PGSSLROOTCERT: path.join(other, 'o.crt') } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/certificate verify failed/);
  });

  it('without a certificate the server answers N: sslmode=require fails as against PostgreSQL, prefer falls back', async () => {
    const req = await run('psql', ['-X', '-c', 'select 1'], { env: { ...plain.env, PGSSLMODE: 'require' } });
    expect(req.status).not.toBe(0);
    expect(req.stderr).toMatch(/server does not support SSL/);
    const prefer = await run('psql', ['-X', '-At', '-c', 'select 7'], { env: { ...plain.env, PGSSLMODE: 'prefer' } });
    expect(prefer.status, prefer.stderr).toBe(0);
    expect(prefer.stdout.trim()).toBe('7');
  });

  it('a key that does not match the certificate is one clear error at start', async () => {
    const engine = await openSqlEngine({ dataDir: root });
    try {
      await expect(startSqlServer({
        engine, port: 0, credentials: { user: 'u', password: 'p', source: 'test', configured: true },
        tls: { cert: path.join(certs, 'server.crt'), key: path.join(certs, 'ca.key') },
      })).rejects.toThrow(/do not make a usable pair/);
      await expect(startSqlServer({
        engine, port: 0, credentials: { user: 'u', password: 'p', source: 'test', configured: true },
        tls: { cert: path.join(certs, 'missing.crt'), key: path.join(certs, 'server.key') },
      })).rejects.toThrow(/cannot read the TLS certificate .*ENOENT/);
    } finally {
      await engine.close();
    }
  });
});
