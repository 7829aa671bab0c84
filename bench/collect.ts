/**
 * `npm run bench:collect` — the collection agent's two flows, each against a baseline in the same run.
 *
 * 1. Batch (R1): one status day (100 cars: 2,160,000 records + headers, ~100 MB) dropped into the spool
 *    directory, through the seed's four interceptors, a durable file channel and the lake sink, until
 *    every line is in a closed lake file. Baseline (the issue's):
 *      grep -E '^[0-9]{14}' FILE | sed 's/$/,20240101/' > OUT
 *    Three ways of timing the agent, each against the same run's grep|sed:
 *    - in-process: from Agent.start() inside the agent's process until its sink delivered every line;
 *    - from outside, agent running: `smartcar agent` started and idle, then the clock runs from the
 *      `mv` of the day into the spool until the last line is in a closed lake file (the lake's closed
 *      files hold as many bytes as grep|sed wrote), polled every 2 ms; also mv → first bytes in the lake.
 *      The last file closes after hdfs.idleTimeout = 0.1 s without writes (in-process: 100 s, not waited for);
 *    - whole command: from spawning `smartcar agent` with the day already in the spool (process start,
 *      module loading included) until the same point.
 * 2. Real time (R2): 2,000,000 driving-log lines already in the followed file (the agent catches up as
 *    fast as it can: sustained throughput), exec `tail -F` → file channel → Kafka sink → the embedded
 *    broker (its own process). Baseline: kcat (librdkafka) producing the same file to the same broker.
 *
 * 3. Spool pickup: a spooldir source (pollDelay 500 ms, the default) with a deliver() that only records
 *    the time; 20 small files moved in one after another, each once the source is idle: mv → first batch
 *    delivered. BENCH_ONLY=pickup runs only this.
 *
 *   BENCH_CARS (default 100)   BENCH_DRIVING (default 2,000,000)   BENCH_CHANNEL (file | memory)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Agent, createDeadLetters, fromProperties } from '../src/collect/index.ts';
import { findComponent, type SourceFactory } from '../src/collect/registry.ts';
import { createLogger } from '../src/core/log.ts';
import '../src/collect/source/spooldir.ts';
import { writeStatusDay, statusFileName, driverLines } from '../src/sim/index.ts';
import { parseDate8 } from '../src/core/time.ts';
import { spoolAgent } from '../soak/collect-harness.ts';
import { spawn } from 'node:child_process';
import { brokerProcess, SMARTCAR_BIN } from './support.ts';

const CARS = Number(process.env.BENCH_CARS ?? 100);
const DRIVING = Number(process.env.BENCH_DRIVING ?? 2_000_000);
const CHANNEL = process.env.BENCH_CHANNEL ?? 'file';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-collect-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (s: string) => process.stdout.write(s + '\n');

const BATCH_AGENT = spoolAgent({ spoolDir: 'spool', channel: CHANNEL === 'memory' ? 'memory' : 'file', rollSize: 67_108_864, idleTimeout: 100 });
/** Timed from outside, the last lake file must close: after 0.1 s without writes (hdfs.idleTimeout is in seconds). */
const OUTSIDE_AGENT = spoolAgent({ spoolDir: 'spool', channel: CHANNEL === 'memory' ? 'memory' : 'file', rollSize: 67_108_864, idleTimeout: 0.1 });

const TAIL_AGENT = `
a.sources = tail
a.channels = ch
a.sinks = bus
a.sources.tail.type = exec
a.sources.tail.command = tail -F logs/drive.log
a.sources.tail.batchSize = 1000
a.sources.tail.interceptors = filter
a.sources.tail.interceptors.filter.type = regex_filter
a.sources.tail.interceptors.filter.regex = ^\\\\d{14}
a.sources.tail.channels = ch
a.channels.ch.type = ${CHANNEL}
a.channels.ch.capacity = 100000
a.channels.ch.transactionCapacity = 10000
a.sinks.bus.type = org.apache.flume.sink.kafka.KafkaSink
a.sinks.bus.channel = ch
a.sinks.bus.topic = SmartCar-Topic
a.sinks.bus.requiredAcks = 1
a.sinks.bus.batchSize = 5000
a.sinks.bus.keyField = 1
`;

async function runAgent(text: string, data: string, brokers: string[], done: (a: Agent) => boolean): Promise<number> {
  const agent = new Agent(fromProperties(text, 'bench', 'a'), { dataDir: data, brokers, deadLetters: createDeadLetters(data, 'a') });
  agent.build();
  const t0 = performance.now();
  await agent.start();
  while (!done(agent)) await new Promise((r) => setTimeout(r, 5));
  await agent.stop();
  return (performance.now() - t0) / 1000;
}

/** Bytes in closed lake files (no `.tmp`), and whether any lake file (open or closed) has bytes yet. */
function lakeBytes(lake: string): { closed: number; any: boolean } {
  let closed = 0, any = false;
  let parts: string[];
  try {
    parts = fs.readdirSync(lake);
  } catch {
    return { closed, any };
  }
  for (const p of parts) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(lake, p));
    } catch {
      continue;
    }
    for (const f of names) {
      let size = 0;
      try {
        size = fs.statSync(path.join(lake, p, f)).size;
      } catch {
        continue;
      }
      if (size > 0) any = true;
      if (!f.endsWith('.tmp')) closed += size;
    }
  }
  return { closed, any };
}

/** `smartcar agent` on `data`; resolves once it says it runs (`started`), `exit` stops it. */
function agentProcess(conf: string, data: string): { started: Promise<void>; stop(): Promise<void> } {
  const p = spawn(process.execPath, [SMARTCAR_BIN, 'agent', '-n', 'a', '-f', conf, '--data', data], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' } });
  const started = new Promise<void>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/agent a running/.test(out)) resolve();
    });
    p.once('exit', (code) => reject(new Error(`agent exited ${code}`)));
  });
  started.catch(() => {});
  return { started, stop: () => new Promise((r) => { if (p.exitCode !== null) return r(); p.once('exit', () => r()); p.kill('SIGTERM'); }) };
}

/** Polls (every 2 ms) until the closed lake files hold `bytes`; returns seconds since t0 and since t0 to the first lake bytes. */
async function untilLake(lake: string, bytes: number, t0: number): Promise<{ done: number; first: number }> {
  let first = NaN;
  for (;;) {
    const l = lakeBytes(lake);
    const now = performance.now();
    if (l.any && Number.isNaN(first)) first = (now - t0) / 1000;
    if (l.closed >= bytes) return { done: (now - t0) / 1000, first };
    if (now - t0 > 600_000) throw new Error('lake not complete after 600 s');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Lines in the lake's closed files (after timing). */
function lakeLines(lake: string): number {
  let lines = 0;
  for (const p of fs.readdirSync(lake)) for (const f of fs.readdirSync(path.join(lake, p))) {
    if (f.endsWith('.tmp')) throw new Error(`in-use file left: ${f}`);
    const b = fs.readFileSync(path.join(lake, p, f));
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

/** Flushes every dirty page to disk (sync(1)). */
const settle = () => { spawnSync('sync'); };

const delivered = (a: Agent) => a.status().filter((c) => c.kind === 'sink').reduce((s, c) => s + (c.delivered ?? 0), 0);

async function batchFlow(): Promise<void> {
  const staged = path.join(dir, 'staged');
  fs.mkdirSync(staged);
  writeStatusDay({ date: '20240101', cars: CARS, outDir: staged, seed: 1 });
  const file = path.join(staged, statusFileName('20240101'));
  const size = fs.statSync(file).size;
  const records = CARS * 21_600;
  log(`\nBatch flow: ${statusFileName('20240101')}, ${fmt(records)} records, ${(size / 1e6).toFixed(1)} MB, ${CHANNEL} channel`);

  const times: { base: number; ours: number; floor: number; outside: number; whole: number; first: number }[] = [];
  const conf = path.join(dir, 'batch-agent.properties');
  fs.writeFileSync(conf, OUTSIDE_AGENT);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  for (let run = 0; run < runs; run++) {
    const out = path.join(dir, 'baseline.out');
    // Each timed part starts with no dirty pages left by the one before (or by staging its input): none
    // pays for another's write-back.
    settle();
    let t0 = performance.now();
    const r = spawnSync('bash', ['-c', `grep -E '^[0-9]{14}' '${file}' | sed 's/$/,20240101/' > '${out}'`]);
    if (r.status !== 0) throw new Error(`baseline failed: ${r.stderr}`);
    const base = (performance.now() - t0) / 1000;
    const outBytes = fs.statSync(out).size;
    fs.rmSync(out);

    // The floor of any durable pipeline on this disk: the same bytes written twice (write-ahead log, then
    // lake file) with an fdatasync per batch, as the file channel (per 1,000-line put) and the lake sink (per
    // 10,000-line batch) must. No parsing, no filtering: just the I/O.
    settle();
    t0 = performance.now();
    {
      const bytes = fs.readFileSync(file);
      const wal = fs.openSync(path.join(dir, 'floor-wal'), 'w');
      const lake = fs.openSync(path.join(dir, 'floor-lake'), 'w');
      const per = Math.ceil(bytes.length / (records / 1000));
      for (let off = 0, i = 0; off < bytes.length; off += per, i++) {
        fs.writeSync(wal, bytes, off, Math.min(per, bytes.length - off));
        fs.fdatasyncSync(wal);
        if (i % 10 === 9) {
          fs.writeSync(lake, bytes, Math.max(0, off - 9 * per), Math.min(10 * per, bytes.length - Math.max(0, off - 9 * per)));
          fs.fdatasyncSync(lake);
        }
      }
      fs.closeSync(wal);
      fs.closeSync(lake);
      fs.rmSync(path.join(dir, 'floor-wal'));
      fs.rmSync(path.join(dir, 'floor-lake'));
    }
    const floor = (performance.now() - t0) / 1000;

    const data = path.join(dir, `batch-${run}`);
    fs.mkdirSync(path.join(data, 'spool'), { recursive: true });
    fs.copyFileSync(file, path.join(data, 'spool', '.x'));
    fs.renameSync(path.join(data, 'spool', '.x'), path.join(data, 'spool', statusFileName('20240101')));
    settle();
    // The agent runs in a process of its own, as `smartcar agent` does (timed inside it from start()):
    // what this process did before (generating the day, earlier runs) leaves it no heap to clean up.
    const child = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--batch-agent', data, String(records)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`batch agent run failed: ${child.stderr}`);
    const ours = Number(/seconds (\S+)/.exec(child.stdout)?.[1]);
    const lake = path.join(data, 'lake', 'collect', 'car-batch-log');
    let lines = 0;
    for (const p of fs.readdirSync(lake)) for (const f of fs.readdirSync(path.join(lake, p))) {
      if (f.endsWith('.tmp')) throw new Error(`in-use file left: ${f}`);
      const b = fs.readFileSync(path.join(lake, p, f));
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
    }
    if (lines !== records) throw new Error(`lake has ${lines} lines, expected ${records}`);
    fs.rmSync(data, { recursive: true, force: true });

    // From outside, the agent already running and idle: mv → last line in a closed lake file.
    const outsideData = path.join(dir, `outside-${run}`);
    fs.mkdirSync(path.join(outsideData, 'spool'), { recursive: true });
    fs.copyFileSync(file, path.join(outsideData, 'day.staged'));
    const running = agentProcess(conf, outsideData);
    await running.started;
    await new Promise((r) => setTimeout(r, 500)); // its first scan found the spool empty
    settle();
    const outsideLake = path.join(outsideData, 'lake', 'collect', 'car-batch-log');
    const tMv = performance.now();
    fs.renameSync(path.join(outsideData, 'day.staged'), path.join(outsideData, 'spool', statusFileName('20240101')));
    const outside = await untilLake(outsideLake, outBytes, tMv);
    await running.stop();
    if (lakeLines(outsideLake) !== records) throw new Error('outside run: lake line count differs');
    fs.rmSync(outsideData, { recursive: true, force: true });

    // The whole command: spawn `smartcar agent` with the day already in the spool.
    const wholeData = path.join(dir, `whole-${run}`);
    fs.mkdirSync(path.join(wholeData, 'spool'), { recursive: true });
    fs.copyFileSync(file, path.join(wholeData, 'spool', '.x'));
    fs.renameSync(path.join(wholeData, 'spool', '.x'), path.join(wholeData, 'spool', statusFileName('20240101')));
    settle();
    const wholeLake = path.join(wholeData, 'lake', 'collect', 'car-batch-log');
    const tSpawn = performance.now();
    const cmd = agentProcess(conf, wholeData);
    const whole = await untilLake(wholeLake, outBytes, tSpawn);
    await cmd.stop();
    if (lakeLines(wholeLake) !== records) throw new Error('whole-command run: lake line count differs');
    fs.rmSync(wholeData, { recursive: true, force: true });

    times.push({ base, ours, floor, outside: outside.done, whole: whole.done, first: outside.first });
    log(`  run ${run + 1}: baseline grep|sed ${base.toFixed(2)} s   durable-I/O floor ${floor.toFixed(2)} s   smartcar agent ${ours.toFixed(2)} s (${fmt(records / ours)} lines/s)   ratio agent/grep ${(ours / base).toFixed(2)}   agent/floor ${(ours / floor).toFixed(2)}`);
    log(`         from outside: mv → last line in a closed lake file ${outside.done.toFixed(2)} s (ratio ${(outside.done / base).toFixed(2)}; mv → first lake bytes ${(outside.first * 1000).toFixed(0)} ms)   whole command ${whole.done.toFixed(2)} s (ratio ${(whole.done / base).toFixed(2)})`);
  }
  const best = { base: Math.min(...times.map((t) => t.base)), ours: Math.min(...times.map((t) => t.ours)), floor: Math.min(...times.map((t) => t.floor)) };
  log(`  best: baseline ${best.base.toFixed(2)} s, floor ${best.floor.toFixed(2)} s, agent ${best.ours.toFixed(2)} s → ratio agent/grep ${(best.ours / best.base).toFixed(2)} (target ≤ 3), agent/floor ${(best.ours / best.floor).toFixed(2)}`);
  const within = times.filter((t) => t.outside / t.base <= 3).length;
  log(`  from outside (mv → closed lake file), per run: ${times.map((t) => (t.outside / t.base).toFixed(2)).join(', ')} × grep|sed; ${within} of ${times.length} runs ≤ 3×; whole command: ${times.map((t) => (t.whole / t.base).toFixed(2)).join(', ')} ×`);
}

async function tailFlow(): Promise<void> {
  const data = path.join(dir, 'tail');
  const logFile = path.join(data, 'logs', 'drive.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const cars = Math.max(100, Math.ceil(DRIVING / 3600));
  const fd = fs.openSync(logFile, 'w');
  let n = 0, chunk: string[] = [];
  for (const l of driverLines({ cars, seed: 2, startMs: parseDate8('20240101'), records: Math.ceil(DRIVING / cars) })) {
    if (!/^\d{14}/.test(l)) continue;
    chunk.push(l);
    if (++n >= DRIVING) break;
    if (chunk.length === 100_000) { fs.writeSync(fd, chunk.join('\n') + '\n'); chunk = []; }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
  fs.closeSync(fd);
  log(`\nReal-time flow: ${fmt(n)} driving lines (${(fs.statSync(logFile).size / 1e6).toFixed(1)} MB) tail -F → ${CHANNEL} channel → Kafka sink (acks=1) → embedded broker process`);
  const broker = await brokerProcess(path.join(dir, 'broker'));
  try {
    const secs = await runAgent(TAIL_AGENT, data, [broker.addr], (a) => delivered(a) >= n);
    log(`  smartcar agent: ${secs.toFixed(2)} s, ${fmt(n / secs)} lines/s (target ≥ 200,000)`);
    if (spawnSync('kcat', ['-V']).status === 0) {
      const t0 = performance.now();
      const r = spawnSync('kcat', ['-b', broker.addr, '-t', 'bench-kcat', '-P', '-l', '-X', 'acks=1', '-X', 'linger.ms=5', logFile]);
      const k = (performance.now() - t0) / 1000;
      log(r.status === 0 ? `  baseline kcat -P (librdkafka, acks=1): ${k.toFixed(2)} s, ${fmt(n / k)} lines/s → ratio agent/kcat time ${(secs / k).toFixed(2)}` : `  kcat failed: ${r.stderr}`);
    } else log('  baseline kcat: skipped (kcat is not installed)');
  } finally {
    await broker.stop();
  }
}

async function pickup(): Promise<void> {
  const data = path.join(dir, 'pickup');
  fs.mkdirSync(path.join(data, 'spool'), { recursive: true });
  const f = findComponent('source', 'spooldir') as SourceFactory<unknown>;
  let delivered: (() => void) | undefined;
  const src = f.create(f.schema.parse({ spoolDir: 'spool', deletePolicy: 'immediate', pollDelay: '500' }), async () => { delivered?.(); }, {
    agent: 'a', name: 'spool', dataDir: data, lakeRoot: path.join(data, 'lake'), stateDir: path.join(data, 'state'), brokers: [],
    deadLetters: { write: () => {} }, log: createLogger('bench'), resume: undefined,
  });
  await src.start();
  const ms: number[] = [];
  for (let i = 0; i < 20; i++) {
    fs.writeFileSync(path.join(data, `f${i}`), '20240101000000,A0001\n');
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 400)); // idle, at a random point of its scan cycle
    const got = new Promise<void>((r) => (delivered = r));
    const t0 = performance.now();
    fs.renameSync(path.join(data, `f${i}`), path.join(data, 'spool', `f${i}.txt`));
    await got;
    ms.push(performance.now() - t0);
  }
  await src.stop();
  ms.sort((a, b) => a - b);
  log(`\nSpool pickup (pollDelay 500 ms, watched directory): mv → first batch delivered over 20 files: median ${ms[10].toFixed(1)} ms, max ${ms[19].toFixed(1)} ms (target ~50 ms; scanning alone waits up to 500 ms)`);
}

if (process.argv[2] === '--batch-agent') {
  const [data, records] = [process.argv[3], Number(process.argv[4])];
  const secs = await runAgent(BATCH_AGENT, data, [], (a) => delivered(a) >= records);
  process.stdout.write(`seconds ${secs}\n`);
  process.exit(0);
}

log(`bench:collect — ${os.cpus().length} CPUs, Node ${process.version}`);
try {
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'pickup') await pickup();
  if (!only || only === 'batch') await batchFlow();
  if (!only || only === 'tail') await tailFlow();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
