import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus } from '../../src/bus/index.ts';
import { spawn } from 'node:child_process';
import { brokerProcess, exited, tmp } from './support.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
/**
 * Group consumption and durability with kafkajs. (These once stalled about one run in three: a new
 * group's delayed completion compared a timer against Date.now(), and a timer firing a millisecond
 * early left the join waiting out the 60 s rebalance timeout. Fixed in groups.ts.)
 */
let broker: Broker;
let dataDir: string;

beforeAll(async () => {
  dataDir = tmp('kafkajs-groups');
  broker = await startBroker({ dataDir, port: 0, defaultPartitions: 4 });
});
afterAll(() => broker?.close());

describe('group consumption with kafkajs ', () => {
  it('creates topics, produces with acks -1, 1 and 0 (plain and gzip), and a group consumes everything once', async () => {
    const bus = createBus({ brokers: [`127.0.0.1:${broker.port}`] });
    await bus.createTopic('t1', 3);
    for (const [acks, compression] of [[-1, 'none'], [1, 'gzip'], [0, 'none']] as const) {
      const p = await bus.producer({ acks, compression });
      for (let i = 0; i < 5; i++) await p.send('t1', Array.from({ length: 200 }, (_, j) => ({ key: `car-${j % 17}`, value: `${acks}-${i}-${j}` })));
      await p.close();
    }
    const seen: string[] = [];
    const c = await bus.consumer({ groupId: 'g1', topics: ['t1'] });
    const run = c.run(async (b) => { for (const r of b.records) seen.push(r.value.toString()); });
    const deadline = Date.now() + 60_000;
    while (seen.length < 3000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await c.stop();
    await run;
    expect(seen.length).toBe(3000);
    expect(new Set(seen).size).toBe(3000);
    // Committed offsets: a new member of the group finds nothing left to read. Proven, not timed: end
    // markers go to every partition after the commits, and the member stops once it has read them all;
    // per-partition order means a re-read record would have reached it before its partition's marker.
    const again: string[] = [];
    const partsSeen = new Set<number>();
    const c2 = await bus.consumer({ groupId: 'g1', topics: ['t1'] });
    const run2 = c2.run(async (b) => { for (const r of b.records) { again.push(r.value.toString()); partsSeen.add(r.partition); } });
    const markers = Array.from({ length: 30 }, (_, i) => `end-${i}`);
    const mp = await bus.producer({ acks: -1 });
    await mp.send('t1', markers.map((m) => ({ key: m, value: m })));
    await mp.close();
    const deadline2 = Date.now() + 60_000;
    while (again.length < markers.length && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 100));
    await c2.stop();
    await run2;
    expect([...partsSeen].sort()).toEqual([0, 1, 2]);
    expect(again.sort()).toEqual([...markers].sort());
    const lag = await bus.lag('g1', 't1');
    expect(lag.map((l) => [l.partition, l.committed === l.end])).toEqual([[0, true], [1, true], [2, true]]);
    await bus.close();
  });

});

describe('durability with a real broker process ', () => {
  it('loses no acknowledged record to kill -9 mid-produce, and serves committed offsets after the restart', async () => {
    const dir = tmp('crash');
    let b = await brokerProcess(dir);
    const k = () => new Kafka({ brokers: [b.addr], clientId: 'crash', logLevel: logLevel.NOTHING });
    const admin = k().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 2 }] });
    // A committed offset, before the crash.
    await admin.setOffsets({ groupId: 'durable-g', topic: 'durable', partitions: [{ partition: 0, offset: '7' }] });
    await admin.disconnect();
    // The producer is a real process too: it prints each batch once the broker acknowledged it (acks=-1).
    const producer = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { Kafka, logLevel } = await import('kafkajs');
      const p = new Kafka({ brokers: ['${b.addr}'], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).producer();
      await p.connect();
      for (let i = 0; ; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => ({ key: String((i + j) % 9), value: 'm' + (i + j) }));
        try { await p.send({ topic: 'durable', acks: -1, messages: batch }); } catch { process.exit(0); }
        process.stdout.write('acked ' + i + '\\n');
      }`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    producer.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    while ((out.match(/acked/g) ?? []).length < 20) await new Promise((r) => setTimeout(r, 20));
    b.proc.kill('SIGKILL');
    await exited(b.proc);
    await exited(producer);
    const acked = out.split('\n').filter((l) => l.startsWith('acked ')).flatMap((l) => { const i = Number(l.slice(6)); return Array.from({ length: 50 }, (_, j) => 'm' + (i + j)); });
    expect(acked.length).toBeGreaterThanOrEqual(1000);

    b = await brokerProcess(dir, b.port);
    try {
      const all = new Set<string>();
      const reader = k().consumer({ groupId: 'after-crash' });
      await reader.connect();
      await reader.subscribe({ topic: 'durable', fromBeginning: true });
      await reader.run({ eachMessage: async ({ message }) => { all.add(message.value!.toString()); } });
      const deadline = Date.now() + 20_000;
      while (acked.some((v) => !all.has(v)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await reader.disconnect();
      expect(acked.filter((v) => !all.has(v))).toEqual([]);
      const a2 = k().admin();
      await a2.connect();
      const offsets = await a2.fetchOffsets({ groupId: 'durable-g', topics: ['durable'] });
      await a2.disconnect();
      expect(offsets[0].partitions.find((p) => p.partition === 0)?.offset).toBe('7');
    } finally {
      b.proc.kill('SIGTERM');
      await exited(b.proc);
    }
  });


  it('evicts a member killed with -9 after its session timeout, and the survivor takes its partitions', async () => {
    const k = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const admin = k.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 't-evict', numPartitions: 4 }] });
    await admin.disconnect();
    // The victim: a real process in the group, killed without a chance to leave.
    const victim = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { Kafka, logLevel } = await import('kafkajs');
      const c = new Kafka({ brokers: ['127.0.0.1:${broker.port}'], logLevel: logLevel.NOTHING }).consumer({ groupId: 'g-evict', sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 300 });
      c.on(c.events.GROUP_JOIN, (e) => process.stdout.write('joined ' + JSON.stringify(e.payload.memberAssignment['t-evict'] ?? []) + '\\n'));
      await c.connect(); await c.subscribe({ topic: 't-evict' }); await c.run({ eachMessage: async () => {} });`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    victim.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('joined')) await new Promise((r) => setTimeout(r, 50));
    const survivor = k.consumer({ groupId: 'g-evict', sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 300, rebalanceTimeout: 10_000 });
    let mine: number[] = [];
    survivor.on(survivor.events.GROUP_JOIN, (e) => { mine = e.payload.memberAssignment['t-evict'] ?? []; });
    await survivor.connect();
    await survivor.subscribe({ topic: 't-evict' });
    await survivor.run({ eachMessage: async () => {} });
    const deadline = Date.now() + 20_000;
    while (mine.length !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(mine.length).toBe(2);
    victim.kill('SIGKILL');
    await new Promise<void>((r) => victim.once('exit', () => r()));
    const killedAt = Date.now();
    while (mine.length !== 4 && Date.now() < deadline + 20_000) await new Promise((r) => setTimeout(r, 100));
    expect([...mine].sort()).toEqual([0, 1, 2, 3]);
    // Not before the victim's 6 s session expired: it was evicted, it did not leave.
    expect(Date.now() - killedAt).toBeGreaterThan(4000);
    await survivor.disconnect();
  });
});
