/**
 * `npm run bench:broker` — 1,000,000 records of 100 bytes (BENCH_RECORDS) produced in batches to the
 * embedded broker (its own process, default durability: acks=-1, fsync before acknowledging) by two
 * producers, each to its own topic: the bus's own producer (src/bus/producer.ts, what the project uses)
 * and kafkajs's (`producer({ client: 'kafkajs' })`, the same workload through kafkajs 2.2); then the
 * bus's topic consumed back through a consumer group (the bus consumes through kafkajs), and the same
 * produce with kcat (librdkafka). Side by side in the same run: the same workload against NATS
 * JetStream at 127.0.0.1:4222 (file storage, async publish with acknowledgements, pull consumer),
 * skipped with a note when it is not running.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createBus } from '../src/bus/index.ts';
import { brokerProcess } from './support.ts';

const N = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const BATCH = 5000;
const INFLIGHT = 8;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-broker-'));
const value = Buffer.alloc(100, 'x');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (s: string) => process.stdout.write(s + '\n');

async function produceWith(bus: ReturnType<typeof createBus>, client: 'bus' | 'kafkajs', topic: string): Promise<number> {
  await bus.createTopic(topic, 4);
  const producer = await bus.producer({ acks: -1, ...(client === 'kafkajs' ? { client: 'kafkajs' as const } : {}) });
  const batch = Array.from({ length: BATCH }, (_, i) => ({ key: `car-${i % 1000}`, value }));
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let sent = 0; sent < N; sent += BATCH) {
    inflight.push(producer.send(topic, batch.slice(0, Math.min(BATCH, N - sent))));
    if (inflight.length >= INFLIGHT) await inflight.shift();
  }
  await Promise.all(inflight);
  const rate = N / ((performance.now() - t0) / 1000);
  await producer.close();
  return rate;
}

async function smartcar(): Promise<{ produce: number; produceKafkajs: number; consume: number; native: number | string }> {
  const b = await brokerProcess(path.join(dir, 'broker'));
  const bus = createBus({ brokers: [b.addr], clientId: 'bench' });
  const produce = await produceWith(bus, 'bus', 'bench');
  const produceKafkajs = await produceWith(bus, 'kafkajs', 'bench-kafkajs');
  let seen = 0;
  const t0 = performance.now();
  const consumer = await bus.consumer({ groupId: 'bench-g', topics: ['bench'], maxBytesPerPartition: 8 * 1024 * 1024 });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const run = consumer.run(async (bt) => { seen += bt.records.length; if (seen >= N) done(); });
  await finished;
  const consume = N / ((performance.now() - t0) / 1000);
  await consumer.stop();
  await run;
  await bus.close();
  const native = await kcatProduce(b.addr);
  await b.stop();
  return { produce, produceKafkajs, consume, native };
}

/** The same produce with librdkafka (kcat, acks=all): the broker's capacity without kafkajs's client cost. */
async function kcatProduce(addr: string): Promise<number | string> {
  const { spawnSync } = await import('node:child_process');
  if (spawnSync('kcat', ['-V']).status !== 0) return 'kcat is not installed';
  const file = path.join(dir, 'records.txt');
  const line = 'x'.repeat(100);
  fs.writeFileSync(file, Array.from({ length: N }, () => line).join('\n') + '\n');
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn('kcat', ['-b', addr, '-t', 'bench-kcat', '-P', '-l', '-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000', file], { stdio: 'inherit' });
    p.on('exit', resolve);
  });
  if (code !== 0) return `kcat exited ${code}`;
  return N / ((performance.now() - t0) / 1000);
}

async function jetstream(): Promise<{ produce: number; consume: number } | string> {
  let nats: typeof import('nats');
  try {
    nats = await import('nats');
  } catch {
    return 'the nats client is not installed';
  }
  let nc: import('nats').NatsConnection;
  try {
    nc = await nats.connect({ servers: '127.0.0.1:4222', timeout: 2000 });
  } catch {
    return 'NATS is not running at 127.0.0.1:4222';
  }
  const jsm = await nc.jetstreamManager();
  const stream = `bench_${process.pid}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: nats.StorageType.File });
  const js = nc.jetstream();
  let t0 = performance.now();
  let acks: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    acks.push(js.publish(`${stream}.car-${i % 1000}`, value));
    if (acks.length >= BATCH) { await Promise.all(acks); acks = []; }
  }
  await Promise.all(acks);
  const produce = N / ((performance.now() - t0) / 1000);
  await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: nats.AckPolicy.None });
  const consumer = await js.consumers.get(stream, 'bench');
  t0 = performance.now();
  let seen = 0;
  while (seen < N) {
    const msgs = await consumer.fetch({ max_messages: BATCH, expires: 2000 });
    for await (const _m of msgs) seen++;
  }
  const consume = N / ((performance.now() - t0) / 1000);
  await jsm.streams.delete(stream);
  await nc.close();
  return { produce, consume };
}

log(`bench:broker — ${fmt(N)} records of 100 bytes, batches of ${BATCH}, ${INFLIGHT} in flight, ${os.cpus().length} CPUs`);
try {
  const s = await smartcar();
  log(`  smartcar broker ← bus's own producer (acks=-1, fsync)   produce ${fmt(s.produce)} rec/s`);
  log(`  smartcar broker ← kafkajs 2.2 producer (acks=-1, fsync)  produce ${fmt(s.produceKafkajs)} rec/s   (own/kafkajs ${(s.produce / s.produceKafkajs).toFixed(2)}x)`);
  log(`  smartcar broker → bus consumer group (kafkajs 2.2)       consume ${fmt(s.consume)} rec/s`);
  log(`  smartcar broker ← kcat/librdkafka (acks=all)             produce ${typeof s.native === 'string' ? `skipped (${s.native})` : `${fmt(s.native)} rec/s`}`);
  const j = await jetstream().catch((err: Error) => `JetStream failed: ${err.message}`);
  if (typeof j === 'string') log(`  NATS JetStream: skipped (${j})`);
  else {
    log(`  NATS JetStream (file storage, acked)        produce ${fmt(j.produce)} rec/s   consume (pull) ${fmt(j.consume)} rec/s`);
    log(`  ratio smartcar / JetStream                   produce ${(s.produce / j.produce).toFixed(2)}   consume ${(s.consume / j.consume).toFixed(2)}`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
