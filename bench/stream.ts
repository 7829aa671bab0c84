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
 *    BENCH_PG_CPU=1 prints a CPU ledger of every PostgreSQL run (bench/cpu-ledger.ts): CPU-seconds per
 *    process role (workers, their PostgreSQL backends, broker, Redis, …) and µs per record, over the
 *    whole in-process run and over the group runs' steady window.
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
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { brokerProcess } from './support.ts';
import { ledger, snapshot, type Snapshot } from './cpu-ledger.ts';


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
const PG_CPU = process.env.BENCH_PG_CPU === '1';
/** A group run with no progress for this long fails (with what each worker last reported) instead of hanging. */
const STALL_MS = 60_000;
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
    : await openTableStore({ kind: 'postgres', url: appUrl('bench-inproc'), schema: `bench_stream_${process.pid}` });
  const hot = await openHotStore({ kind: 'redis', url: REDIS_URL });
  const role = () => roles({ 'bench-inproc': 'pg backends of the pipeline' }, [[process.pid, 'bench process (the pipeline)']]);
  const cpu0 = table === 'postgres' && PG_CPU ? await snapshot(role) : undefined;
  const cp0 = cpu0 && await checkpoints();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const topo = await startTopology({ bus, table: store, hot, rulesDir: SHIPPED_RULES, topic, groupId: `bench-${table}-${topic}`, idleCloseMs: 60_000, maxBytesPerPartition: MAX_BYTES });
  // Timed until every record is stored (consumed counts a batch before its table write completes).
  while (topo.stats().stored < n) await new Promise((r) => setTimeout(r, 20));
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(c0);
  const cpu1 = cpu0 && await snapshot(role);
  process.stdout.write(`    (${table}) ${fmt(topo.stats().stored)} rows stored, ${fmt(topo.stats().alerts)} alerts\n`);
  if (cpu0 && cpu1) process.stdout.write(ledger(cpu0, cpu1, n, (await checkpoints()) - (cp0 ?? 0)));
  await topo.stop();
  if (table === 'postgres') await (await monitorClient()).query(`drop schema if exists bench_stream_${process.pid} cascade`);
  await store.close();
  await hot.close();
  await bus.close();
  return { perSec: n / s, perCpuSec: n / cpu };
}

/** PG_URL with an `application_name`, by which the CPU ledger finds the backends of one store. */
function appUrl(name: string): string {
  const u = new URL(PG_URL);
  u.searchParams.set('application_name', name);
  return u.toString();
}

let brokerPid = 0;
let monitor: Promise<import('pg').Client> | undefined;
/** The bench's own PostgreSQL session (progress checks, the ledger's pg_stat_activity, dropping schemas). */
function monitorClient(): Promise<import('pg').Client> {
  monitor ??= import('pg').then(async (pg) => {
    const c = new pg.default.Client({ connectionString: appUrl('bench-monitor'), statement_timeout: 30_000, query_timeout: 35_000 });
    await c.connect();
    return c;
  });
  return monitor;
}

/** The role of each process the bench knows: itself, the broker, `pids`, and the backends of each application_name in `apps`. */
async function roles(apps: Record<string, string>, pids: [number, string][] = []): Promise<Map<number, string>> {
  const all: Record<string, string> = { ...apps, 'bench-monitor': 'pg backend of the bench (progress, ledger)' };
  const m = new Map<number, string>([[process.pid, 'bench process'], [brokerPid, 'broker'], ...pids]);
  const r = await (await monitorClient()).query<{ pid: number; application_name: string }>(
    'select pid, application_name from pg_stat_activity where application_name = any($1)', [Object.keys(all)]);
  for (const x of r.rows) m.set(x.pid, all[x.application_name]);
  return m;
}

/**
 * PostgreSQL's checkpoints so far (timed + requested). After a checkpoint each page's first change writes
 * the whole page to the WAL, so a window holding one costs visibly more CPU per record (a 500,000-record
 * run writes ~500 MB of WAL: with max_wal_size = 1 GB about one checkpoint lands in each run, anywhere).
 */
async function checkpoints(): Promise<number> {
  const r = await (await monitorClient()).query<{ n: string }>('select checkpoints_timed + checkpoints_req as n from pg_stat_bgwriter');
  return Number(r.rows[0].n);
}

/** `p`, or a rejection with `message` after `ms`. */
function within<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}

/** Stops a worker: `stop`, then SIGKILL if it has not exited within 30 s. */
async function stopWorker(p: import('node:child_process').ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  if (p.connected) p.send('stop');
  try {
    await within(exited, 30_000, 'stop timed out');
  } catch {
    process.stdout.write(`    worker ${p.pid} did not stop within 30 s: killed\n`);
    p.kill('SIGKILL');
    await exited;
  }
}

/**
 * A group of `workers` stream processes on PostgreSQL draining `topic` (n records): the steady rate
 * (rows stored from 10 % of n, or from when every worker writes if later, to 90 %, over that time) and
 * the whole-run rate (go → all stored).
 * Progress is what the workers report over IPC every 100 ms (counting the table every 200 ms cost
 * PostgreSQL 0.2–0.5 core, a quarter of the machine); a worker's own count also counts rows written
 * again after a rebalance, so the end is confirmed by counting the distinct rows in PostgreSQL once the
 * reports add up to n, and the final check is that count. No progress for STALL_MS, a worker's error
 * or a worker exiting early fails the run with a message rather than hanging it.
 */
async function pgGroup(brokers: string[], topic: string, n: number, workers: number): Promise<{ steady: number; whole: number }> {
  const schema = `bench_stream_g${workers}_${process.pid}`;
  const table = `${schema}."t_DriverCarInfo"`;
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stream-worker.ts');
  const group = `bench-pg-group${workers}-${topic}`;
  const apps: Record<string, string> = {};
  const procs = Array.from({ length: workers }, (_, i) => {
    apps[`bench-w${i}`] = 'pg backends of the workers';
    return fork(script, [brokers.join(','), topic, group, 'postgres', appUrl(`bench-w${i}`), schema, REDIS_URL], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  });
  const stored = procs.map(() => 0);
  const consumed = procs.map(() => 0);
  let failure: Error | undefined;
  let stopping = false;
  const ready = procs.map((p, i) => new Promise<void>((resolve, reject) => {
    p.on('message', (m: unknown) => {
      if (m === 'ready') resolve();
      else if (typeof m === 'object' && m !== null) {
        const o = m as { stored?: number; consumed?: number; error?: string };
        if (typeof o.stored === 'number') stored[i] = o.stored;
        if (typeof o.consumed === 'number') consumed[i] = o.consumed;
        if (o.error !== undefined) failure ??= new Error(`group of ${workers}: worker ${i + 1} failed: ${o.error}`);
      }
    });
    p.once('exit', (code, signal) => {
      // A worker that failed says why first ({ error }), then exits: that reason wins.
      if (!stopping) failure ??= new Error(`group of ${workers}: worker ${i + 1} exited (${code ?? signal}) before the run ended`);
      reject(failure);
    });
  }));
  for (const r of ready) r.catch(() => {}); // awaited below; a late exit after `ready` is no error
  const c = await monitorClient();
  const role = () => roles(apps, procs.map((p) => [p.pid!, 'worker processes']));
  try {
    await within(Promise.all(ready), 60_000, `group of ${workers}: workers not ready after 60 s`);
    let t10 = NaN, t90 = NaN, n10 = 0, n90 = 0;
    let s10: Snapshot | undefined, s90: Snapshot | undefined, cp10 = 0, cp90 = 0;
    const t0 = performance.now();
    for (const p of procs) p.send('go');
    let progress = 0, progressAt = t0;
    for (;;) {
      await sleep(50);
      if (failure) throw failure;
      const sum = stored.reduce((a, b) => a + b, 0);
      const now = performance.now();
      // The steady window opens once every worker is writing (a member that joins late would otherwise
      // leave one worker's pace inside the group's window), at 10 % of n at the earliest.
      if (Number.isNaN(t10) && sum >= 0.1 * n && sum < 0.9 * n && stored.every((x) => x > 0)) {
        [t10, n10] = [now, sum];
        if (PG_CPU) [s10, cp10] = [await snapshot(role), await checkpoints()];
      }
      if (Number.isNaN(t90) && !Number.isNaN(t10) && sum >= 0.9 * n) {
        [t90, n90] = [now, sum];
        if (PG_CPU) [s90, cp90] = [await snapshot(role), await checkpoints()];
      }
      let distinct = 0;
      if (sum >= n) {
        distinct = Number((await c.query(`select count(*) from ${table}`)).rows[0].count);
        if (distinct >= n) break;
        await sleep(450);
      }
      if (sum + distinct > progress) [progress, progressAt] = [sum + distinct, now];
      else if (now - progressAt > STALL_MS) {
        throw new Error(`group of ${workers}: no progress for ${STALL_MS / 1000} s (workers report ${stored.map(fmt).join(' + ')} rows stored${distinct ? `, ${fmt(distinct)} distinct in PostgreSQL` : ''}; ${fmt(n)} expected)`);
      }
    }
    const tEnd = performance.now();
    const reread = consumed.reduce((a, b) => a + b, 0) - n;
    stopping = true;
    await Promise.all(procs.map(stopWorker));
    const rows = Number((await c.query(`select count(*) from ${table}`)).rows[0].count);
    if (rows !== n) throw new Error(`group of ${workers}: ${rows} rows in PostgreSQL, expected ${n}`);
    if (Number.isNaN(t10)) throw new Error(`group of ${workers}: not every worker wrote before 90 % of the rows were stored (no steady window; use more BENCH_RECORDS)`);
    // Records read again after a rebalance (from the partition's last commit) are written again: the
    // merge path, which costs more than the direct COPY, so a run with many of them is slower.
    if (workers > 1) process.stdout.write(`    (group of ${workers}: ${fmt(Math.max(0, reread))} records read twice, after rebalances)\n`);
    if (n10 > 0.2 * n) process.stdout.write(`    (group of ${workers}: every worker writing only from ${Math.round((100 * n10) / n)} % of the rows)\n`);
    if (s10 && s90) process.stdout.write(`    (group of ${workers}, steady window)\n` + ledger(s10, s90, n90 - n10, cp90 - cp10));
    return { steady: (n90 - n10) / ((t90 - t10) / 1000), whole: n / ((tEnd - t0) / 1000) };
  } finally {
    stopping = true;
    await Promise.all(procs.map(stopWorker));
    await c.query(`drop schema if exists ${schema} cascade`);
  }
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
brokerPid = broker.pid;
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
  if (monitor) await (await monitor).end().catch(() => {});
  await broker.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
