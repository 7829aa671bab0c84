import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus, murmur2Partition, type ConsumedRecord } from '../../src/bus/index.ts';
import { KafkaSink, bodyField, kafkaSinkSchema } from '../../src/collect/sink/index.ts';
import { TestChannel, ev, sinkContext } from './support/test-channel.ts';

const roots: string[] = [];
const tmp = (n: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-sink-kafka-${n}-`));
  roots.push(d);
  return d;
};

/** Driving-record-like lines: date, car number, … */
const driving = (n: number) => Array.from({ length: n }, (_, i) => `20240101${String(100000 + i).slice(-6)},${String.fromCharCode(65 + (i % 26))}${String(i % 100).padStart(4, '0')},1,0,0,N,${i % 130},A01`);

async function consume(brokers: string[], topic: string, want: number, group: string): Promise<ConsumedRecord[]> {
  const bus = createBus({ brokers, clientId: `test-${group}` });
  const c = await bus.consumer({ groupId: group, topics: [topic], fromBeginning: true });
  const got: ConsumedRecord[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const running = c.run(async (b) => {
    got.push(...b.records);
    if (got.length >= want) resolveDone();
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  await c.stop();
  await running.catch(() => undefined);
  await bus.close();
  return got;
}

describe('kafka sink against the embedded broker', () => {
  let broker: Broker;
  let brokers: string[];

  beforeAll(async () => {
    broker = await startBroker({ dataDir: tmp('broker'), port: 0, defaultPartitions: 4 });
    brokers = [`${broker.host}:${broker.port}`];
  });
  afterAll(async () => {
    await broker?.close();
    for (const d of roots.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('delivers every event in batches, keyed by the car-number field (keyField = 1)', async () => {
    const root = tmp('a');
    const bus = createBus({ brokers });
    await bus.createTopic('SinkTest-Topic', 4);
    await bus.close();
    const channel = new TestChannel();
    const cfg = kafkaSinkSchema.parse({ topic: 'SinkTest-Topic', brokerList: brokers.join(','), requiredAcks: '1', batchSize: '100', keyField: '1' });
    const sink = new KafkaSink(cfg, channel, sinkContext(root, 'ks'));
    expect([sink.acks, sink.batchSize, sink.topic]).toEqual([1, 100, 'SinkTest-Topic']);
    const lines = driving(450);
    await channel.add(lines.map((l) => ev(l)));
    await sink.start();
    const counts: number[] = [];
    for (let n = await sink.process(); n > 0; n = await sink.process()) counts.push(n);
    expect(counts).toEqual([100, 100, 100, 100, 50]);
    expect(channel.size()).toBe(0);
    await sink.stop();

    const got = await consume(brokers, 'SinkTest-Topic', 450, 'g-keys');
    expect(got.map((r) => r.value.toString()).sort()).toEqual([...lines].sort());
    for (const r of got) {
      const car = r.value.toString().split(',')[1];
      expect(r.key?.toString()).toBe(car);
      expect(r.partition).toBe(murmur2Partition(car, 4)); // keyed as the Java client would
    }
  });

  it('uses the key header by default, the topic header when allowed, and dead-letters a bad topic name', async () => {
    const root = tmp('b');
    const channel = new TestChannel();
    const cfg = kafkaSinkSchema.parse({ 'kafka.topic': 'SinkTest-Main', 'kafka.bootstrap.servers': brokers.join(','), 'kafka.producer.acks': 'all', flumeBatchSize: '50' });
    const ctx = sinkContext(root, 'ks2');
    const sink = new KafkaSink(cfg, channel, ctx);
    expect(sink.acks).toBe(-1);
    await channel.add([
      ev('m1', { key: 'k-1' }), ev('m2'), ev('o1', { topic: 'SinkTest-Other', key: 'k-2' }), ev('x1', { topic: 'bad topic!' }),
    ]);
    await sink.start();
    expect(await sink.process()).toBe(4);
    await sink.stop();
    const main = await consume(brokers, 'SinkTest-Main', 2, 'g-main');
    expect(main.map((r) => [r.value.toString(), r.key?.toString() ?? null]).sort()).toEqual([['m1', 'k-1'], ['m2', null]]);
    const other = await consume(brokers, 'SinkTest-Other', 1, 'g-other');
    expect(other.map((r) => [r.value.toString(), r.key?.toString()])).toEqual([['o1', 'k-2']]);
    const dl = JSON.parse(fs.readFileSync(ctx.deadLetters.file, 'utf8')) as { body: string; reason: string };
    expect(dl.body).toBe('x1');
    expect(dl.reason).toMatch(/not a valid topic name/);
  });

  it('ignores the topic header when allowTopicOverride = false', async () => {
    const root = tmp('c');
    const channel = new TestChannel();
    const sink = new KafkaSink(kafkaSinkSchema.parse({ topic: 'SinkTest-Fixed', allowTopicOverride: 'false' }), channel, sinkContext(root, 'ks3', { brokers }));
    await channel.add([ev('f1', { topic: 'SinkTest-Elsewhere' })]);
    await sink.start();
    expect(await sink.process()).toBe(1);
    await sink.stop();
    expect((await consume(brokers, 'SinkTest-Fixed', 1, 'g-fixed')).map((r) => r.value.toString())).toEqual(['f1']);
  });

  it('rolls the take back when the broker cannot be reached, keeping every event in the channel', async () => {
    const root = tmp('d');
    const channel = new TestChannel();
    // A port nothing listens on (the broker of this test listens elsewhere): a real connection failure.
    const dead = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const sink = new KafkaSink(kafkaSinkSchema.parse({ topic: 'SinkTest-Down', brokerList: `127.0.0.1:${dead}` }), channel, sinkContext(root, 'ks4'));
    await channel.add([ev('a'), ev('b')]);
    await sink.start(); // warns, does not throw
    await expect(sink.process()).rejects.toThrow(/kafka sink ks4 could not send to 127.0.0.1/);
    expect(channel.size()).toBe(2);
    expect(channel.events.map((e) => e.body.toString())).toEqual(['a', 'b']);
    await sink.stop();
  });

  it('parses Flume properties and refuses what it cannot honour', () => {
    expect(bodyField(Buffer.from('a,b,c'), 0)?.toString()).toBe('a');
    expect(bodyField(Buffer.from('a,b,c'), 2)?.toString()).toBe('c');
    expect(bodyField(Buffer.from('a,b,c'), 3)).toBeUndefined();
    expect(kafkaSinkSchema.safeParse({ useFlumeEventFormat: 'true' }).error?.issues[0].message).toMatch(/not supported/);
    expect(kafkaSinkSchema.safeParse({ 'kafka.producer.compression.type': 'snappy' }).success).toBe(false);
    expect(kafkaSinkSchema.safeParse({ requiredAcks: '2' }).success).toBe(false);
    expect(kafkaSinkSchema.safeParse({ topik: 'x' }).success).toBe(false);
    expect(() => new KafkaSink(kafkaSinkSchema.parse({ topic: 'x' }), new TestChannel(), sinkContext(tmp('e'), 'k'))).toThrow(/no brokers/);
  });
});
