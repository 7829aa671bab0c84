/**
 * `npm run bench:e2e` — the largest fleet `smartcar up` sustains with every stage on: simulator →
 * driving log → agent (tail) → broker → stream (table store + CEP → hot store), each car one record
 * per simulated second in real time (speed-up 1).
 *
 * For each fleet size (BENCH_FLEETS, default 1000,5000,20000,50000,80000,120000) a fresh `smartcar up` runs for
 * BENCH_SECONDS (default 60) wall seconds. /metrics is sampled every 5 s:
 *   offered   = the fleet size (records/s the seed's rate asks for): the baseline of the same run
 *   written   = rate of smartcar_sim_records_total (did the simulator keep up?)
 *   stored    = rate of smartcar_stream_rows_stored_total
 *   backlog   = written − stored records (end-to-end lag through agent, broker and stream)
 * A fleet is sustained when written and stored are both ≥ 95 % of offered over the second half of the
 * run, the backlog does not grow over it (by more than two rounds plus 2 % of what was offered), and it
 * ends at most 5 s of records behind (alerts on time). The first fleet
 * that fails stops the ladder. Figures go to stdout; BENCHMARKS.md keeps them.
 *
 * BENCH_POSTGRES=<url> runs the stream's table store in PostgreSQL (`up --postgres <url>`, a schema of
 * its own per fleet, dropped afterwards) instead of LMDB.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { httpGet } from '../src/platform/scrape.ts';
import { sumSamples } from '../src/core/index.ts';

const SMARTCAR_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/smartcar.js');
const FLEETS = (process.env.BENCH_FLEETS ?? '1000,5000,20000,50000,80000,120000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SAMPLE_MS = 5000;
const PG_URL = process.env.BENCH_POSTGRES;
const pgSchema = (cars: number) => `bench_e2e_${process.pid}_${cars}`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Sample { t: number; written: number; stored: number; lag: number | undefined }

async function startUp(data: string, cars: number): Promise<{ child: ChildProcess; port: number }> {
  const pgArgs = PG_URL ? ['--postgres', PG_URL] : [];
  const child = spawn(process.execPath, [SMARTCAR_BIN, 'up', '--data', data, '--port', '0', '--broker-port', '0', '--cars', String(cars), '--speedup', '1', '--seed', '1', '--status-cars', '10', ...pgArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn', ...(PG_URL ? { SMARTCAR_POSTGRES_SCHEMA: pgSchema(cars) } : {}) } });
  let out = '';
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)\/health[\s\S]*ready;/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`smartcar up exited ${code}:\n${out}`)));
  });
  return { child, port };
}

async function sample(port: number): Promise<Sample> {
  const m = sumSamples((await httpGet(`127.0.0.1:${port}`, '/metrics', 10_000)).body);
  return { t: Date.now(), written: m.get('smartcar_sim_records_total') ?? 0, stored: m.get('smartcar_stream_rows_stored_total') ?? 0, lag: m.get('smartcar_stream_consumer_lag') };
}

/** Least-squares slope of y over t (per second). */
function slope(xs: { t: number; y: number }[]): number {
  const n = xs.length;
  const mt = xs.reduce((a, x) => a + x.t, 0) / n, my = xs.reduce((a, x) => a + x.y, 0) / n;
  let num = 0, den = 0;
  for (const x of xs) { num += (x.t - mt) * (x.y - my); den += (x.t - mt) ** 2; }
  return den ? (num / den) * 1000 : 0;
}

async function runFleet(cars: number): Promise<boolean> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-bench-e2e-${cars}-`));
  const { child, port } = await startUp(data, cars);
  const samples: Sample[] = [];
  try {
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
      samples.push(await sample(port));
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(data, { recursive: true, force: true });
    if (PG_URL) {
      const pg = await import('pg');
      const c = new pg.default.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${pgSchema(cars)} CASCADE`);
      await c.end();
    }
  }
  const half = samples.slice(Math.floor(samples.length / 2));
  const a = half[0], b = half[half.length - 1];
  const secs = (b.t - a.t) / 1000;
  const written = (b.written - a.written) / secs, stored = (b.stored - a.stored) / secs;
  const backlogSlope = slope(half.map((s) => ({ t: s.t, y: s.written - s.stored })));
  const lagSlope = half.every((s) => s.lag !== undefined) ? slope(half.map((s) => ({ t: s.t, y: s.lag! }))) : undefined;
  // The simulator writes whole rounds (one record per car), so a sample can be a round early or late:
  // the backlog may wobble by a round or two; growing means more than that over the second half.
  const growth = (b.written - b.stored) - (a.written - a.stored);
  // And alerts on time: at the end the pipeline is at most 5 s of records behind the simulator.
  const behindSec = (b.written - b.stored) / cars;
  const ok = written >= 0.95 * cars && stored >= 0.95 * cars && growth <= 2 * cars + 0.02 * cars * secs && behindSec <= 5;
  process.stdout.write(
    `${fmt(cars).padStart(8)} cars  offered ${fmt(cars).padStart(8)}/s  written ${fmt(written).padStart(8)}/s  stored ${fmt(stored).padStart(8)}/s  ` +
      `backlog ${fmt(b.written - b.stored).padStart(9)} = ${behindSec.toFixed(1)} s (${growth >= 0 ? '+' : ''}${fmt(growth)} over the last ${fmt(secs)} s, slope ${fmt(backlogSlope)}/s)` +
      `${lagSlope !== undefined ? `  bus lag ${fmt(b.lag!)} (${lagSlope >= 0 ? '+' : ''}${fmt(lagSlope)}/s)` : ''}  ${ok ? 'SUSTAINED' : 'falls behind'}\n`,
  );
  return ok;
}

process.stdout.write(`bench:e2e — smartcar up at speed-up 1, ${SECONDS} s per fleet, ${os.cpus().length} cores, table store ${PG_URL ? 'PostgreSQL' : 'LMDB'}\n`);
let best = 0;
for (const cars of FLEETS) {
  if (!(await runFleet(cars))) break;
  best = cars;
}
process.stdout.write(`largest fleet sustained: ${best ? fmt(best) : 'none of ' + FLEETS.join(', ')} cars (target ≥ 50,000)\n`);
