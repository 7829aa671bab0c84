/**
 * `npm run bench:sqlserver` — the SQL server against the machine's PostgreSQL, same rows, same clients.
 *
 * 1. Bulk read: 1,000,000 rows × 8 varchar columns (the seed's symptom table shape) through
 *    `psql -c 'select *' > /dev/null`, from `smartcar sql-server` (a Parquet mart) and from
 *    PostgreSQL (a table holding the same rows). Best of BENCH_RUNS; ratio of rows/s (target ≥ 0.5).
 * 2. Point queries: `pgbench -M extended -c 16 -j 2 -T BENCH_SECONDS (30)` with a custom script selecting
 *    one car_number; TPS of each (PostgreSQL with an index on car_number, as it would serve it).
 * 3. Memory: the server's peak RSS while psql (FETCH_COUNT, a cursor) reads a 10,000,000-row select,
 *    against its idle RSS (target < 2×).
 *
 * The server runs as its own process (`smartcar sql-server`), so its RSS is its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { SYMPTOM_MART as MART, listeningPort, psqlTime, writeSymptomMart } from './support.ts';

const PG = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const ROWS = 1_000_000;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-sqlserver-'));
const table = `bench_sqlserver_${crypto.randomBytes(3).toString('hex')}`;
const log = (s: string) => process.stdout.write(s + '\n');
const password = crypto.randomBytes(9).toString('base64url');

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['bin/smartcar.js', 'sql-server', '--data', root, '--port', '0', '--statement-timeout', '0'], {
    env: { ...process.env, SMARTCAR_SQL_USER: 'smartcar', SMARTCAR_SQL_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await listeningPort(child, 'sql-server');
  return { child, port };
}

function pgbench(env: NodeJS.ProcessEnv, script: string): { tps: number; failed: string } {
  const r = spawnSync('pgbench', ['-n', '-M', 'extended', '-c', '16', '-j', '2', '-T', String(SECONDS), '-f', script], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pgbench failed: ${r.stderr}`);
  return { tps: Number(/tps = ([\d.]+)/.exec(r.stdout)![1]), failed: /number of failed transactions: (.*)/.exec(r.stdout)?.[1] ?? '?' };
}

async function main(): Promise<void> {
  log(`# bench:sqlserver  ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}  (shared machine)`);
  // The same rows: a Parquet mart partition for us, a table for PostgreSQL.
  const csv = path.join(root, 'rows.csv');
  await writeSymptomMart(root, ROWS, csv);
  const pgEnv = { ...process.env, PGDATABASE: new URL(PG).pathname.slice(1), PGHOST: new URL(PG).hostname, PGPORT: new URL(PG).port || '5432', PGUSER: new URL(PG).username };
  const ddl = `create table ${table} (car_number varchar, speed_p_avg varchar, speed_p_symptom varchar, break_p_avg varchar, break_p_symptom varchar, steer_a_cnt varchar, steer_p_symptom varchar, biz_date varchar)`;
  const load = spawnSync('psql', ['-X', '-q', '-c', ddl, '-c', `\\copy ${table} from '${csv}' csv`, '-c', `create index on ${table} (car_number)`, '-c', `analyze ${table}`], { env: pgEnv, encoding: 'utf8' });
  if (load.status !== 0) throw new Error(load.stderr);

  const { child, port } = await startServer();
  const ours = { ...process.env, PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'smartcar', PGPASSWORD: password, PGDATABASE: 'smartcar' };
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idle = rssKb(child.pid!);
    // 1. Bulk read
    const mine: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      mine.push(psqlTime(ours, `select * from ${MART}`));
      theirs.push(psqlTime(pgEnv, `select * from ${table}`));
    }
    const a = Math.min(...mine), b = Math.min(...theirs);
    log(`bulk read ${ROWS.toLocaleString('en')} rows x 8 cols via psql > /dev/null: sql-server best ${a.toFixed(2)} s (${Math.round(ROWS / a).toLocaleString('en')} rows/s; runs ${mine.map((x) => x.toFixed(2)).join(' ')}), PostgreSQL best ${b.toFixed(2)} s (${Math.round(ROWS / b).toLocaleString('en')} rows/s; runs ${theirs.map((x) => x.toFixed(2)).join(' ')}) → ratio ${(b / a).toFixed(2)}x (target >= 0.5)`);

    // 2. Point queries
    const scriptFor = (t: string) => {
      const f = path.join(root, `point-${t}.sql`);
      fs.writeFileSync(f, `\\set n random(0, 9999)\nselect * from ${t} where car_number = 'A' || lpad(:n::text, 4, '0');\n`);
      return f;
    };
    const p1 = pgbench(ours, scriptFor(MART));
    const p2 = pgbench(pgEnv, scriptFor(table));
    log(`pgbench -M extended -c 16 -j 2 -T ${SECONDS} point query on car_number: sql-server ${p1.tps.toFixed(1)} tps (failed ${p1.failed}), PostgreSQL (indexed) ${p2.tps.toFixed(1)} tps (failed ${p2.failed}) → ratio ${(p1.tps / p2.tps).toFixed(3)}x`);

    // 3. Memory during a 10 M-row select read through a cursor
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(child.pid!))), 50);
    const t10 = await new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const p = spawn('sh', ['-c', `psql -X -q -v FETCH_COUNT=50000 -c "select m.* from ${MART} m, range(10) r" > /dev/null`], { env: ours, stdio: 'ignore' });
      p.on('exit', (c) => (c === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`psql exited ${c}`))));
    });
    clearInterval(sampler);
    const idle2 = rssKb(child.pid!);
    log(`10,000,000-row select (psql FETCH_COUNT=50000) in ${t10.toFixed(1)} s: server RSS idle ${(idle / 1024).toFixed(0)} MB, peak ${(peak / 1024).toFixed(0)} MB → ${(peak / idle).toFixed(2)}x idle (target < 2x); after ${(idle2 / 1024).toFixed(0)} MB`);
  } finally {
    child.kill('SIGTERM');
    spawnSync('psql', ['-X', '-q', '-c', `drop table if exists ${table}`], { env: pgEnv });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
