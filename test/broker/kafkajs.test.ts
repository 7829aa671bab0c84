import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus, murmur2Partition } from '../../src/bus/index.ts';
import { spawn } from 'node:child_process';
import { tmp } from './support.ts';
import { needTool } from '../support/require.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
let broker: Broker;
let dataDir: string;
const kafka = () => new Kafka({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'test', logLevel: logLevel.NOTHING });

beforeAll(async () => {
  dataDir = tmp('kafkajs');
  broker = await startBroker({ dataDir, port: 0, defaultPartitions: 4 });
});
afterAll(() => broker?.close());

describe('the broker with kafkajs', () => {
  it('partitions keys with murmur2 exactly as kafkajs\'s Java-compatible partitioner does', async () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 7 }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
    for (let i = 0; i < 2000; i++) {
      const key = i % 3 ? `A${String(i).padStart(4, '0')}` : `k${i}-${'x'.repeat(i % 11)}`;
      expect(murmur2Partition(key, 7)).toBe(partitioner({ topic: 'x', partitionMetadata, message: { key, value: '' } }));
    }
    // And the broker stores a car's records on that partition.
    const bus = createBus({ brokers: [`127.0.0.1:${broker.port}`] });
    await bus.createTopic('t-keys', 4);
    const p = await bus.producer();
    await p.send('t-keys', ['A0001', 'B0002', 'C0003', 'Z0100'].map((k) => ({ key: k, value: k })));
    await p.close();
    const where = new Map<string, number>();
    const c = await bus.consumer({ groupId: 'g-keys', topics: ['t-keys'] });
    const run = c.run(async (b) => { for (const r of b.records) where.set(r.value.toString(), b.partition); });
    while (where.size < 4) await new Promise((r) => setTimeout(r, 100));
    await c.stop();
    await run;
    for (const [k, part] of where) expect(part).toBe(murmur2Partition(k, 4));
    await bus.close();
  });

  it('rebalances a two-member group, and moves a departed member\'s partitions to the survivor', async () => {
    const k = kafka();
    const admin = k.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 't-rb', numPartitions: 4 }] });
    const members = [0, 1].map(() => k.consumer({ groupId: 'g-rb', sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 500 }));
    const assigned: number[][] = [[], []];
    for (const [i, c] of members.entries()) {
      c.on(c.events.GROUP_JOIN, (e) => { assigned[i] = e.payload.memberAssignment['t-rb'] ?? []; });
      await c.connect();
      await c.subscribe({ topic: 't-rb', fromBeginning: true });
      await c.run({ eachMessage: async () => {} });
    }
    const deadline = Date.now() + 20_000;
    while (!(assigned[0].length === 2 && assigned[1].length === 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect([...assigned[0], ...assigned[1]].sort()).toEqual([0, 1, 2, 3]);
    const groups = await admin.describeGroups(['g-rb']);
    expect(groups.groups[0].members).toHaveLength(2);
    await members[1].disconnect();
    while (assigned[0].length !== 4 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 100));
    expect(assigned[0].sort()).toEqual([0, 1, 2, 3]);
    await members[0].disconnect();
    await admin.disconnect();
  });

  it('answers an unknown API with a closed connection and keeps serving others', async () => {
    const sock = net.connect(broker.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise((r) => sock.once('close', r));
    const req = Buffer.alloc(14);
    req.writeInt32BE(10, 0); req.writeInt16BE(999, 4); req.writeInt16BE(0, 6); req.writeInt32BE(7, 8); req.writeInt16BE(-1, 12);
    sock.write(req);
    await closed;
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'after-bad-client', numPartitions: 1 }] });
    expect(await admin.listTopics()).toContain('after-bad-client');
    await admin.disconnect();
  });
});

describe('durability', () => {
  it.skipIf(!needTool('kcat', ['-V'], 'the torn-tail read-back through librdkafka'))('truncates a torn tail at the last valid batch and serves everything before it', async () => {
    const dir = tmp('torn');
    const b1 = await startBroker({ dataDir: dir, port: 0 });
    const k = new Kafka({ brokers: [`127.0.0.1:${b1.port}`], logLevel: logLevel.NOTHING });
    const p = k.producer();
    await p.connect();
    await p.send({ topic: 'torn', acks: -1, messages: [{ key: 'a', value: 'one' }] });
    await p.send({ topic: 'torn', acks: -1, messages: [{ key: 'a', value: 'two' }] });
    await p.disconnect();
    await b1.close();
    const part = fs.readdirSync(dir).find((d) => d.startsWith('torn-') && fs.readdirSync(path.join(dir, d)).some((f) => fs.statSync(path.join(dir, d, f)).size > 0))!;
    const seg = path.join(dir, part, fs.readdirSync(path.join(dir, part))[0]);
    const good = fs.statSync(seg).size;
    fs.appendFileSync(seg, Buffer.from([0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1, 0, 9, 9, 9])); // half a batch
    const b2 = await startBroker({ dataDir: dir, port: 0 });
    try {
      expect(fs.statSync(seg).size).toBe(good);
      // Read back without a consumer group (kcat, librdkafka), asynchronously: the broker is in this process.
      const out = await new Promise<string>((resolve) => {
        const p = spawn('kcat', ['-b', `127.0.0.1:${b2.port}`, '-t', 'torn', '-C', '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let o = '';
        p.stdout.on('data', (d: Buffer) => (o += d.toString()));
        p.on('exit', () => resolve(o));
      });
      expect(out.trim().split('\n')).toEqual(['one', 'two']);
    } finally {
      await b2.close();
    }
  });
});
