/**
 * Every listener's and every service flag's failure is one clear line with exit code 2: a busy port
 * names the port and the flag that changes it (also through `smartcar up`, which forwards the child's
 * reason); an unreachable --redis / --kafka / --postgres names the URL with its password hidden.
 * Real processes, a real busy port, real refused connections.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smartcarAsync } from '../support/platform.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-listen-err-'));
let busy: net.Server;
let busyPort = 0;
beforeAll(async () => {
  busy = net.createServer(() => {});
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  busyPort = (busy.address() as net.AddressInfo).port;
});
afterAll(() => {
  busy.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const smartcar = (args: string[], timeoutMs = 90_000) => smartcarAsync(args, { cwd: root, timeoutMs });

/** One `smartcar: …` line, nothing that looks like a stack trace or a JSON log line. */
function oneLine(stderr: string): string {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/^\{"level"/m);
  const lines = stderr.trim().split('\n').filter((l) => l.startsWith('smartcar: '));
  expect(lines).toHaveLength(1);
  return lines[0];
}

describe('busy ports', () => {
  it('the broker names the port and --port', async () => {
    const r = await smartcar(['broker', '--port', String(busyPort), '--data', path.join(root, 'b1')]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is in use.*--port`));
  }, 60_000);

  it('smartcar up forwards the broker\'s reason and names --broker-port; nothing is left running', async () => {
    const data = path.join(root, 'up1');
    const r = await smartcar(['up', '--data', data, '--port', '0', '--broker-port', String(busyPort), '--no-sim'], 120_000);
    expect(r.status).toBe(2);
    const line = oneLine(r.stderr);
    expect(line).toMatch(new RegExp(`broker exited \\(code 2\\) before it was ready: port ${busyPort} on 127\\.0\\.0\\.1 is in use.*--broker-port`));
    expect(r.stdout).not.toMatch(/restart #/);
    expect(r.stdout + r.stderr).not.toMatch(/\{"level"/);
    expect(fs.existsSync(path.join(data, 'state', 'platform.lock'))).toBe(false);
  }, 150_000);

  it('smartcar up forwards the SQL server\'s reason and names --sql-port', async () => {
    const data = path.join(root, 'up3');
    const r = await smartcar(['up', '--data', data, '--port', '0', '--broker-port', '0', '--sql-port', String(busyPort), '--no-sim'], 120_000);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`sql-server exited \\(code 2\\) before it was ready: port ${busyPort} on 127\\.0\\.0\\.1 is in use; choose another with --sql-port`));
    expect(fs.existsSync(path.join(data, 'state', 'platform.lock'))).toBe(false);
  }, 150_000);

  it('the HTTP port of up names --port', async () => {
    const r = await smartcar(['up', '--data', path.join(root, 'up2'), '--port', String(busyPort), '--broker-port', '0', '--no-sim'], 120_000);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is in use; choose another with --port`));
  }, 150_000);
});

describe('unreachable services given by flag', () => {
  it('--redis: one line naming the URL, password hidden, exit 2', async () => {
    const r = await smartcar(['overspeed', '--redis', 'redis://user:hunter2@127.0.0.1:1', '--date', '20240101']);
    expect(r.status).toBe(2);
    const line = oneLine(r.stderr);
    expect(line).toContain('cannot reach Redis at redis://user:***@127.0.0.1:1');
    expect(line).toContain('ECONNREFUSED');
    expect(r.stderr).not.toContain('hunter2');
  }, 60_000);

  it('--kafka: one line naming the brokers, exit 2 after a bounded retry', async () => {
    const t0 = Date.now();
    const r = await smartcar(['stream', '--kafka', '127.0.0.1:1', '--data', path.join(root, 's1')]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/no broker reachable among 127\.0\.0\.1:1 .*--kafka/);
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 90_000);

  it('--postgres: a refused connection and a wrong database, each one line with the URL redacted', async () => {
    const [down, nodb] = await Promise.all([
      smartcar(['table', 'list', '--postgres', 'postgres://postgres:hunter2@127.0.0.1:1/test', '--data', path.join(root, 'p1')]),
      smartcar(['stream', '--postgres', `postgres://postgres:hunter2@127.0.0.1:5432/nodb_${process.pid}`, '--data', path.join(root, 'p2')]),
    ]);
    expect(down.status).toBe(2);
    expect(oneLine(down.stderr)).toMatch(/cannot use PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: connect ECONNREFUSED/);
    expect(nodb.status).toBe(2);
    expect(oneLine(nodb.stderr)).toMatch(/cannot use PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\/nodb_\d+: database "nodb_\d+" does not exist/);
    expect(down.stderr + nodb.stderr).not.toContain('hunter2');
  }, 90_000);
});
