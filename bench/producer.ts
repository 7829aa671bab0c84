/**
 * `npm run bench:producer` — the tail → bus workload of issue #4: 2,000,000 driving-log lines
 * (BENCH_RECORDS; 35 bytes, keyed by car number over 100 cars) sent in batches of 1,000, up to 8 sends in
 * flight, acks=1, to the embedded broker running as its own process (4 partitions). The bus's own
 * producer (producer.ts) and the kafkajs producer, each on a fresh topic in the same run, side by side;
 * the native producer with gzip too. Target: ≥ 200,000 lines/s. BENCH_CLIENTS=native skips the kafkajs
 * baseline (for profiling the native producer alone).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBus, type BusMessage, type ProducerOptions } from '../src/bus/index.ts';
import { brokerProcess } from './support.ts';

const N = Number(process.env.BENCH_RECORDS ?? 2_000_000);
const BATCH = 1000;
const INFLIGHT = 8;
const CARS = 100;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-producer-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (s: string) => process.stdout.write(s + '\n');

/** Driving-log-like lines, as the tail source hands them over: `time,car,…`, key = the car. */
function lines(from: number, n: number): BusMessage[] {
  const out: BusMessage[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const j = from + i;
    const car = `A${String(j % CARS).padStart(4, '0')}`;
    const s = 20240101000000 + (j % 60);
    out[i] = { key: car, value: `${s},${car},${j % 2},${j % 3},F,N,${60 + (j % 60)},A0${j % 9}` };
  }
  return out;
}

async function run(addr: string, label: string, po: ProducerOptions, topic: string): Promise<{ label: string; rate: number; ms: number; cpuMs: number }> {
  const bus = createBus({ brokers: [addr], clientId: 'bench' });
  await bus.createTopic(topic, 4);
  const producer = await bus.producer(po);
  // The lines are built as the tail source would hand them over, batch by batch, inside the timing (about
  // 5% of the native producer's time); holding all 2 M in memory beforehand would mostly measure the GC.
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const inflight = new Set<Promise<void>>();
  for (let sent = 0; sent < N; sent += BATCH) {
    const p: Promise<void> = producer.send(topic, lines(sent, Math.min(BATCH, N - sent))).then(() => { inflight.delete(p); });
    inflight.add(p);
    if (inflight.size >= INFLIGHT) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await producer.close();
  await bus.close();
  // This process's CPU (user + system) is the client's cost: the broker runs in its own process.
  return { label, rate: N / (ms / 1000), ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

log(`bench:producer — ${fmt(N)} driving-log lines (35 bytes, ${CARS} cars as keys), batches of ${BATCH}, ${INFLIGHT} in flight, acks=1, broker in its own process, ${os.cpus().length} CPUs`);
log(`  sample line: ${String(lines(0, 1)[0].value)}`);
const b = await brokerProcess(path.join(dir, 'broker'));
try {
  const results = [];
  if (process.env.BENCH_CLIENTS !== 'native') results.push(await run(b.addr, 'kafkajs producer (baseline)', { client: 'kafkajs', acks: 1 }, 'bench-kafkajs'));
  results.push(await run(b.addr, 'bus producer (native)', { acks: 1 }, 'bench-native'));
  results.push(await run(b.addr, 'bus producer (native, gzip)', { acks: 1, compression: 'gzip' }, 'bench-native-gzip'));
  const base = results[0].rate;
  log('');
  log('| producer | lines/s | time | vs first row | client CPU per 1 M lines |');
  log('|---|---:|---:|---:|---:|');
  for (const r of results) log(`| ${r.label} | ${fmt(r.rate)} | ${(r.ms / 1000).toFixed(2)} s | ${(r.rate / base).toFixed(2)}× | ${fmt(r.cpuMs / (N / 1e6))} ms |`);
  const native = results.find((r) => r.label === 'bus producer (native)')!.rate;
  log('');
  log(`target ≥ 200,000 lines/s: ${native >= 200_000 ? 'met' : 'NOT met'} (${fmt(native)})`);
} finally {
  await b.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
