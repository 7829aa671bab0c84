/**
 * What a session may not do, and what bad input does: the sandbox (read-only, the data directory
 * only), the limits (sessions, statement timeout, message size), the bind rule, and a fuzz of the
 * frame layer — every bad session ends alone; the server keeps answering a good client.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlEngine } from '../../src/sql/index.ts';
import { startSqlServer, resolveCredentials, credentialsFile } from '../../src/pgwire/index.ts';
import { martDataDir, startTestServer, type TestServer } from './support.ts';

let root: string;
let srv: TestServer;

beforeAll(async () => {
  ({ root } = await martDataDir('pgwire-sec', 20, 50));
  srv = await startTestServer(root, { maxSessions: 4, statementTimeoutMs: 1500, maxMessage: 1024 * 1024 });
}, 120_000);

afterAll(async () => {
  await srv?.stop();
});

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: srv.url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

async function stillServes(): Promise<void> {
  const c = await client();
  expect((await c.query('select 40 + 2 as x')).rows[0].x).toBe(42);
  await c.end();
}

describe('the sandbox', () => {
  it.each([
    ["select * from read_csv('/etc/passwd')", /42501|58030|XX000/, /Permission|disabled|external/i],
    ["copy (select 1) to '/tmp/x.csv'", /25006|42501/, /read-only|Permission|disabled/i],
    ["attach '/tmp/other.db' as o", /25006/, /read-only/],
    ['install httpfs', /25006/, /read-only/],
    ['create table t (a int)', /25006/, /read-only/],
    ['set enable_external_access = true', null, null],
    ["select * from read_text('/etc/hostname')", /42501|58030|XX000/, /Permission|disabled|external/i],
  ])('refuses %s', async (sql, code, message) => {
    const c = await client();
    try {
      if (code === null) {
        // SET is answered by the session itself and never reaches DuckDB's (locked) configuration.
        await c.query(sql);
        await expect(c.query("select * from read_csv('/etc/passwd')")).rejects.toThrow();
        return;
      }
      const err = await c.query(sql).then(() => undefined, (e: { code: string; message: string }) => e);
      expect(err, sql).toBeDefined();
      expect(err!.code).toMatch(code);
      expect(err!.message).toMatch(message!);
    } finally {
      await c.end();
    }
  });

  it('still reads the lake inside the data directory', async () => {
    const c = await client();
    const r = await c.query('select count(*)::int as n from smartcar_master');
    expect(r.rows[0].n).toBeGreaterThan(100);
    await c.end();
  });
});

describe('limits', () => {
  it('ends a statement after the statement timeout with 57014', async () => {
    const c = await client();
    const t0 = Date.now();
    await expect(c.query('select count(*) from range(1000000000000) t(a) where a % 7 = 3')).rejects.toMatchObject({ code: '57014', message: expect.stringContaining('statement timeout') });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await c.query('select 1 as x')).rows[0].x).toBe(1);
    await c.end();
  });

  it('refuses a session over the limit with 53300 and admits one again when a session ends', async () => {
    const open = [await client(), await client(), await client(), await client()];
    await expect(client()).rejects.toMatchObject({ code: '53300' });
    await open.pop()!.end();
    await new Promise((r) => setTimeout(r, 100));
    const again = await client();
    await again.end();
    for (const c of open) await c.end();
  });

  it('refuses a non-loopback bind without configured credentials, and names the flag when the port is busy', async () => {
    const engine = await openSqlEngine({ dataDir: root });
    try {
      const generated = resolveCredentials(root, {}, {});
      expect(generated.configured).toBe(false);
      expect(fs.statSync(credentialsFile(root)).mode & 0o777).toBe(0o600);
      expect(resolveCredentials(root, {}, {}).password).toBe(generated.password);
      await expect(startSqlServer({ engine, credentials: generated, host: '0.0.0.0', port: 0 })).rejects.toThrow(/SMARTCAR_SQL_PASSWORD/);
      await expect(startSqlServer({ engine, credentials: generated, port: srv.port, portFlag: '--port' })).rejects.toThrow(`port ${srv.port} on 127.0.0.1 is in use; choose another with --port`);
    } finally {
      await engine.close();
    }
  });
});

/** Raw bytes to the server; resolves with what came back before it closed the connection (or after `ms`). */
function raw(frames: Buffer[], ms = 1500): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    s.on('error', () => {});
    const done = () => resolve(Buffer.concat(got));
    s.on('close', done);
    s.on('connect', () => {
      for (const f of frames) s.write(f);
    });
    setTimeout(() => s.destroy(), ms);
  });
}

const startup = (user: string) => {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from(`user\0${user}\0database\0smartcar\0\0`)]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4);
  return Buffer.concat([len, body]);
};
const typed = (type: string, body: Buffer, len = body.length + 4) => {
  const h = Buffer.alloc(5);
  h[0] = type.charCodeAt(0);
  h.writeInt32BE(len, 1);
  return Buffer.concat([h, body]);
};

describe('bad input ends that session, never the server', () => {
  it('answers an SSLRequest with N, then a start-up', async () => {
    const ssl = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    const got = await raw([ssl, startup(srv.user)], 500);
    expect(got[0]).toBe(0x4e);
    expect(String.fromCharCode(got[1]!)).toBe('R'); // AuthenticationSASL follows
  });

  it.each([
    ['a length below the header', '08P01', [Buffer.from([0, 0, 0, 2])]],
    ['an oversized start-up', '54000', [Buffer.from([0x7f, 0, 0, 0, 0, 3, 0, 0])]],
    ['protocol 2', '0A000', [Buffer.from([0, 0, 0, 8, 0, 2, 0, 0])]],
    ['a start-up without user', '28000', [Buffer.from([0, 0, 0, 9, 0, 3, 0, 0, 0])]],
    ['a typed message before authentication', '08P01', [startup('x'), typed('Q', Buffer.from('select 1\0'))]],
    ['a truncated SASL message', '08P01', [startup('x'), typed('p', Buffer.from('SCRAM-SHA-256'))]],
    ['a wrong mechanism', '28P01', [startup('x'), typed('p', Buffer.concat([Buffer.from('PLAIN\0'), Buffer.from([0, 0, 0, 1]), Buffer.from('x')]))]],
  ])('%s → FATAL %s', async (_what, code, frames) => {
    const got = await raw(frames as Buffer[]);
    expect(got.toString('latin1')).toContain(`C${code}\0`);
    await stillServes();
  });

  it('survives random frames, truncated messages, unknown types and clients that vanish mid-query (fuzz)', async () => {
    const rnd = (n: number) => crypto.randomBytes(n);
    const cases: Buffer[][] = [];
    for (let i = 0; i < 60; i++) {
      const kind = i % 6;
      if (kind === 0) cases.push([rnd(1 + (i % 40))]);
      else if (kind === 1) cases.push([startup(srv.user), rnd(5 + i)]);
      else if (kind === 2) cases.push([startup(srv.user), typed(String.fromCharCode(33 + (i % 90)), rnd(i % 17))]);
      else if (kind === 3) cases.push([startup(srv.user), typed('p', rnd(i % 30), 2 + (i % 5))]);
      else if (kind === 4) cases.push([rnd(4), startup(srv.user)]);
      else cases.push([Buffer.from([0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e]), rnd(8)]); // CancelRequest with a random key
    }
    for (let i = 0; i < cases.length; i += 10) await Promise.all(cases.slice(i, i + 10).map((c) => raw(c, 300)));
    // Authenticated sessions with garbage after login: unknown types, bad Bind counts, truncated Parse.
    for (const bad of [typed('Z', Buffer.alloc(0)), typed('B', Buffer.from([0, 0, 0x7f, 0x7f])), typed('P', Buffer.from('s\0select')), typed('D', Buffer.from('Q\0')), typed('E', Buffer.from([1]))]) {
      const c = await client();
      const stream = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
      const ended = new Promise((r) => stream.once('close', r));
      stream.write(bad);
      stream.write(typed('S', Buffer.alloc(0)));
      await Promise.race([ended, new Promise((r) => setTimeout(r, 1500))]);
      await c.end().catch(() => {});
    }
    // A client that vanishes while a big result streams to it.
    for (let i = 0; i < 3; i++) {
      const c = await client();
      const stream = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
      void c.query("select range, 'x' || range from range(100000000)").catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      stream.destroy();
    }
    await new Promise((r) => setTimeout(r, 500));
    await stillServes();
    expect(srv.sessions()).toBe(0);
  }, 120_000);
});
