/**
 * `npm run bench:stream` — the real-time pipeline's throughput and alert latency.
 *
 * 1. Throughput: N driving records (default 1,000,000; BENCH_RECORDS) are produced to an embedded
 *    broker running as its own process, then replayed through the topology (parse → CEP → table +
 *    hot store). Baseline in the same run: draining the same topic through a consumer group that does
 *    nothing (the bus's own ceiling). Run for the LMDB table store and for PostgreSQL (in this process);
 *    then PostgreSQL with one and with two workers of one group, each worker its own process
 *    (bench/stream-worker.ts; BENCH_PG_GROUPS=0 skips), timed over the middle 80 % of the rows stored
 *    (after every member joined) and over the whole run.
 *    BENCH_ONLY=pg skips the LMDB run; BENCH_ONLY=lmdb runs only the baseline and LMDB.
 * 2. Latency: 100 cars × 10 records/s (1,000 records/s) for BENCH_LATENCY_S seconds (default 60) in real
 *    time; p50/p99 of window close → hot-store (Redis) write.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createBus } from '../src/bus/index.ts';
import { openTableStore } from '../src/table/index.ts';
import { openHotStore } from '../src/hot/index.ts';
import { driverLines } from '../src/sim/index.ts';
import { TOPIC } from '../src/core/records.ts';
import { localCivilNowMs, parseDate8 } from '../src/core/time.ts';
import { startTopology } from '../src/stream/index.ts';
import { SHIPPED_RULES } from '../src/stream/run.ts';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { brokerProcess } from './support.ts';


const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const PG_RECORDS = Number(process.env.BENCH_PG_RECORDS ?? RECORDS);
const LATENCY_S = Number(process.env.BENCH_LATENCY_S ?? 60);
const CARS = 1000;
const PG_URL = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS ?? 'redis://127.0.0.1:6379/14';
/** Fetch size per partition for the pipeline's consumer (default: the topology's). */
const MAX_BYTES = process.env.BENCH_MAX_BYTES ? Number(process.env.BENCH_MAX_BYTES) : undefined;

/** BENCH_ONLY=pg skips the LMDB run, BENCH_ONLY=lmdb everything after it. */
const ONLY = process.env.BENCH_ONLY;
class SkipRest extends Error {}
const PG_GROUPS = process.env.BENCH_PG_GROUPS !== '0';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-stream-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function produceAll(brokers: string[], topic: string, n: number): Promise<void> {
  const bus = createBus({ brokers, clientId: 'bench-producer' });
  await bus.createTopic(topic, 4);
  const producer = await bus.producer({ acks: 1 });
  let batch: { key: string; value: string }[] = [];
  const sends: Promise<void>[] = [];
  for (const line of driverLines({ cars: CARS, seed: 1, startMs: parseDate8('20240101'), records: Math.ceil(n / CARS) })) {
    if (!/^\d{14}/.test(line)) continue;
    batch.push({ key: line.slice(15, 20), value: line });
    if (batch.length === 5000) {
      sends.push(producer.send(topic, batch));
      batch = [];
      if (sends.length >= 8) await Promise.all(sends.splice(0));
    }
  }
  if (batch.length) sends.push(producer.send(topic, batch));
  await Promise.all(sends);
  await producer.close();
  await bus.close();
}

/** Wall rate, and records per CPU-second of this process (all its threads): the second figure does not move with the other load on a shared machine. */
interface Rate { perSec: number; perCpuSec: number }
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

async function drainBaseline(brokers: string[], topic: string, n: number): Promise<Rate> {
  const bus = createBus({ brokers, clientId: 'bench-baseline' });
  const consumer = await bus.consumer({ groupId: `baseline-${topic}`, topics: [topic], fromBeginning: true });
  let seen = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const run = consumer.run(async (b) => {
    seen += b.records.length;
    if (seen >= n) done();
  });
  await finished;
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  await consumer.stop();
  await run.catch(() => {});
  await bus.close();
  return { perSec: n / s, perCpuSec: n / cpu };
}

async function pipeline(brokers: string[], topic: string, n: number, table: 'lmdb' | 'postgres'): Promise<Rate> {
  const bus = createBus({ brokers, clientId: `bench-${table}` });
  const store = table === 'lmdb'
    ? await openTableStore({ kind: 'lmdb', path: path.join(tmp, `table-${topic}`) })
    : await openTableStore({ kind: 'postgres', url: PG_URL, schema: `bench_stream_${process.pid}` });
  const hot = await openHotStore({ kind: 'redis', url: REDIS_URL });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const topo = await startTopology({ bus, table: store, hot, rulesDir: SHIPPED_RULES, topic, groupId: `bench-${table}-${topic}`, idleCloseMs: 60_000, maxBytesPerPartition: MAX_BYTES });
  // Timed until every record is stored (consumed counts a batch before its table write completes).
  while (topo.stats().stored < n) await new Promise((r) => setTimeout(r, 20));
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  process.stdout.write(`    (${table}) ${fmt(topo.stats().stored)} rows stored, ${fmt(topo.stats().alerts)} alerts\n`);
  await topo.stop();
  if (table === 'postgres') {
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`drop schema if exists bench_stream_${process.pid} cascade`);
    await c.end();
  }
  await store.close();
  await hot.close();
  await bus.close();
  return { perSec: n / s, perCpuSec: n / cpu };
}

/**
 * A group of `workers` stream processes on PostgreSQL draining `topic` (n records): the steady rate
 * (rows stored between 10 % and 90 % of n, over that time) and the whole-run rate (go → all stored).
 */
async function pgGroup(brokers: string[], topic: string, n: number, workers: number): Promise<{ steady: number; whole: number }> {
  const schema = `bench_stream_g${workers}_${process.pid}`;
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stream-worker.ts');
  const group = `bench-pg-group${workers}-${topic}`;
  const procs = Array.from({ length: workers }, () => fork(script, [brokers.join(','), topic, group, 'postgres', PG_URL, schema, REDIS_URL], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await Promise.all(procs.map((p) => new Promise<void>((resolve, reject) => {
    p.once('message', () => resolve());
    p.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
  })));
  // Progress is the number of distinct rows in PostgreSQL (a worker's own count also counts rows
  // written again after a rebalance), polled every 200 ms.
  const pg = await import('pg');
  const c = new pg.default.Client({ connectionString: PG_URL });
  await c.connect();
  let t10 = NaN, t90 = NaN;
  const t0 = performance.now();
  for (const p of procs) p.send('go');
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const total = Number((await c.query(`select count(*) from ${schema}."t_DriverCarInfo"`).catch(() => ({ rows: [{ count: 0 }] }))).rows[0].count);
    const now = performance.now();
    if (Number.isNaN(t10) && total >= 0.1 * n) t10 = now;
    if (Number.isNaN(t90) && total >= 0.9 * n) t90 = now;
    if (total >= n) break;
  }
  const tEnd = performance.now();
  await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.send('stop');
  })));
  const rows = Number((await c.query(`select count(*) from ${schema}."t_DriverCarInfo"`)).rows[0].count);
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
  if (rows !== n) throw new Error(`group of ${workers}: ${rows} rows in PostgreSQL, expected ${n}`);
  return { steady: (0.8 * n) / ((t90 - t10) / 1000), whole: n / ((tEnd - t0) / 1000) };
}

async function latency(brokers: string[]): Promise<{ p50: number; p99: number; max: number; samples: number; loopP99: number; loopMax: number }> {
  const topic = 'bench-latency';
  const bus = createBus({ brokers, clientId: 'bench-latency' });
  await bus.createTopic(topic, 4);
  const store = await openTableStore({ kind: 'lmdb', path: path.join(tmp, 'table-latency') });
  const hot = await openHotStore({ kind: 'redis', url: REDIS_URL });
  const samples: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const topo = await startTopology({ bus, table: store, hot, rulesDir: SHIPPED_RULES, topic, groupId: 'bench-latency', idleCloseMs: 60_000, onAlertLatency: (ms) => samples.push(ms) });
  const producer = await bus.producer({ acks: 1 });
  // 100 cars, one record every 100 ms each (the original's pace: timestamps advance 1 s per record) → 1,000 records/s.
  const start = localCivilNowMs();
  const gen = driverLines({ cars: 100, seed: 3, startMs: start, records: LATENCY_S * 10 })[Symbol.iterator]();
  const t0 = Date.now();
  for (let tick = 0; tick < LATENCY_S * 10; tick++) {
    const batch: { key: string; value: string }[] = [];
    while (batch.length < 100) {
      const next = gen.next();
      if (next.done) break;
      if (/^\d{14}/.test(next.value)) batch.push({ key: next.value.slice(15, 20), value: next.value });
    }
    await producer.send(topic, batch);
    const wait = t0 + (tick + 1) * 100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 1000));
  loop.disable();
  await topo.stop();
  await producer.close();
  await store.close();
  await hot.close();
  await bus.close();
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), max: samples[samples.length - 1] ?? NaN, samples: samples.length, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 };
}

const broker = await brokerProcess(path.join(tmp, 'broker'));
const brokers = [broker.addr];
process.stdout.write(`bench:stream — ${fmt(RECORDS)} driving records, ${CARS} cars, broker ${broker.addr} (own process), ${os.cpus().length} CPUs\n`);
try {
  await produceAll(brokers, TOPIC, RECORDS);
  const base = await drainBaseline(brokers, TOPIC, RECORDS);
  const line = (label: string, r: Rate, vs?: Rate) =>
    process.stdout.write(`  ${label.padEnd(44)} ${fmt(r.perSec).padStart(9)} records/s${vs ? `  (${(r.perSec / vs.perSec).toFixed(2)}× the bare bus)` : ''}; ${fmt(r.perCpuSec)} records per CPU-second of this process\n`);
  line('baseline: bus drain (no processing)', base);
  if (ONLY !== 'pg') {
    const lmdb = await pipeline(brokers, TOPIC, RECORDS, 'lmdb');
    line('pipeline → LMDB + Redis', lmdb, base);
  }
  if (ONLY === 'lmdb') throw new SkipRest();
  const pgTopic = PG_RECORDS === RECORDS ? TOPIC : 'bench-pg';
  if (pgTopic !== TOPIC) await produceAll(brokers, pgTopic, PG_RECORDS);
  try {
    const pg = await pipeline(brokers, pgTopic, PG_RECORDS, 'postgres');
    line(`pipeline → PostgreSQL + Redis (${fmt(PG_RECORDS)})`, pg, base);
    if (PG_GROUPS) {
      const one = await pgGroup(brokers, pgTopic, PG_RECORDS, 1);
      const two = await pgGroup(brokers, pgTopic, PG_RECORDS, 2);
      process.stdout.write(`  PostgreSQL, 1 worker process: steady ${fmt(one.steady)} records/s (${(one.steady / base.perSec).toFixed(2)}× the bare bus), whole run ${fmt(one.whole)}\n`);
      process.stdout.write(`  PostgreSQL, 2 worker processes in one group: steady ${fmt(two.steady)} records/s (${(two.steady / one.steady).toFixed(2)}× one worker), whole run ${fmt(two.whole)} (${(two.whole / one.whole).toFixed(2)}×)\n`);
    }
  } catch (err) {
    process.stdout.write(`  pipeline → PostgreSQL: skipped (${(err as Error).message})\n`);
  }
  if (LATENCY_S > 0) {
    const l = await latency(brokers);
    process.stdout.write(`  latency @1,000 records/s for ${LATENCY_S}s: window close → Redis write p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(2)} ms (${l.samples} windows); event-loop delay p99 ${l.loopP99.toFixed(1)} ms, max ${l.loopMax.toFixed(1)} ms\n`);
  }
} catch (err) {
  if (!(err instanceof SkipRest)) throw err;
} finally {
  await broker.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
