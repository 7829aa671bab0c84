/**
 * A data directory with the car master, the income master, one day of driving copied into the lake,
 * and the drive and symptom marts built from it by the real mart builders — what the SQL server's
 * clients read. Plus a server on an ephemeral port and a promise-based process runner (the server runs
 * in the test process, so clients must never be spawned synchronously).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { writeMaster, writeIncome, driverLines } from '../../src/sim/index.ts';
import { buildMart, loadReference, lakePaths, openSqlEngine } from '../../src/sql/index.ts';
import { startSqlServer, type SqlServer } from '../../src/pgwire/index.ts';
import { parseDate8 } from '../../src/core/time.ts';

export const DAY = '20240105';

export async function martDataDir(name: string, cars = 60, records = 200): Promise<{ root: string; incomeFile: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-${name}-`));
  const master = await writeMaster({ outDir: path.join(root, 'in'), seed: 7 });
  loadReference('master', master, root);
  const incomeFile = await writeIncome({ outDir: path.join(root, 'in'), seed: 7, rows: 3000 });
  loadReference('income', incomeFile, root);
  const dir = path.join(lakePaths(path.join(root, 'lake')).drive, `wrk_date=${DAY}`);
  fs.mkdirSync(dir, { recursive: true });
  const rows: string[] = [];
  for (const line of driverLines({ cars, seed: 11, startMs: parseDate8(DAY), records })) {
    const f = line.split(',');
    rows.push([`${f[0]}-${f[1]}`, ...f].join(','));
  }
  fs.writeFileSync(path.join(dir, 'drive.csv'), rows.join('\n') + '\n');
  await buildMart('drive', DAY, { dataDir: root });
  await buildMart('symptom', DAY, { dataDir: root });
  return { root, incomeFile };
}

export interface TestServer extends SqlServer {
  user: string;
  password: string;
  env: NodeJS.ProcessEnv;
  url: string;
  stop(): Promise<void>;
}

export async function startTestServer(dataDir: string, o: { maxSessions?: number; statementTimeoutMs?: number; maxMessage?: number; tls?: { cert: string; key: string } } = {}): Promise<TestServer> {
  const engine = await openSqlEngine({ dataDir });
  const user = 'analyst';
  const password = crypto.randomBytes(9).toString('base64url');
  const server = await startSqlServer({ engine, credentials: { user, password, source: 'test', configured: true }, port: 0, ...o });
  return {
    ...server,
    user,
    password,
    env: { ...process.env, PGHOST: '127.0.0.1', PGPORT: String(server.port), PGUSER: user, PGPASSWORD: password, PGDATABASE: 'smartcar', PGCONNECT_TIMEOUT: '10' },
    url: `postgres://${user}:${password}@127.0.0.1:${server.port}/smartcar`,
    async stop() {
      await server.close();
      await engine.close();
    },
  };
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a process to its end without blocking the event loop; `onStart` gets the child (to signal it). */
export function run(cmd: string, args: string[], o: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string; onStart?: (pid: number) => void } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    if (o.onStart && child.pid) o.onStart(child.pid);
    child.stdin.end(o.input ?? '');
  });
}
