/** The bus's own producer against the real embedded broker, read back with kafkajs and kcat. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus, murmur2Partition, ProduceError, type Bus, type BusMessage } from '../../src/bus/index.ts';
import { readAll } from './support.ts';
import { needTool } from '../support/require.ts';

let broker: Broker;
let dataDir: string;
let bus: Bus;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bus-producer-'));
  broker = await startBroker({ dataDir, port: 0, defaultPartitions: 4 });
  bus = createBus({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'producer-test' });
});
afterAll(async () => {
  await bus?.close();
  await broker?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const kafkajsPartition = (() => {
  const partitioner = Partitioners.DefaultPartitioner();
  return (key: string, n: number) => partitioner({ topic: 'x', partitionMetadata: Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 })), message: { key, value: '' } });
})();

function messages(n: number, tag: string): BusMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 7 === 6 ? null : `A${String(i % 23).padStart(4, '0')}`,
    value: i % 5 === 0 ? Buffer.from([0, 255, i & 0xff, 10]) : `${tag}-${i},é✓`,
    headers: i % 3 === 0 ? { car: `A${i}`, 'trace-id': `t${i}`, empty: '' } : undefined,
    timestamp: i % 4 === 0 ? undefined : 1_700_000_000_000 + i * 1000,
  }));
}

describe('the bus producer (native Kafka protocol) with the embedded broker', () => {
  for (const acks of [-1, 1, 0] as const) {
    it(`round-trips every record, key, value, header and timestamp with acks=${acks}, keys on murmur2 partitions`, async () => {
      const topic = `rt-acks${acks}`;
      await bus.createTopic(topic, 4);
      const p = await bus.producer({ acks });
      const sent = messages(500, topic);
      const before = Date.now();
      // Five sends in flight at once on one connection.
      await Promise.all([0, 1, 2, 3, 4].map((k) => p.send(topic, sent.slice(k * 100, k * 100 + 100))));
      const after = Date.now();
      await p.close();
      const got = await readAll(bus, topic, sent.length);
      expect(got.length).toBe(sent.length);
      const byValue = new Map(got.map((r) => [r.value.toString('latin1'), r]));
      for (const m of sent) {
        const value = typeof m.value === 'string' ? Buffer.from(m.value) : m.value;
        const r = byValue.get(value.toString('latin1'));
        expect(r, `record ${value.toString()}`).toBeDefined();
        expect(r!.key).toEqual(m.key == null ? null : Buffer.from(m.key));
        expect(r!.headers).toEqual(m.headers ?? {});
        if (m.timestamp !== undefined) expect(r!.timestamp).toBe(m.timestamp);
        else {
          expect(r!.timestamp).toBeGreaterThanOrEqual(before);
          expect(r!.timestamp).toBeLessThanOrEqual(after);
        }
        if (typeof m.key === 'string') {
          expect(r!.partition).toBe(murmur2Partition(m.key, 4));
          expect(r!.partition).toBe(kafkajsPartition(m.key, 4));
        }
      }
      // One send's null-key records share one partition; successive sends move on.
      const nullKeyParts = new Set(got.filter((r) => r.key === null).map((r) => r.partition));
      expect(nullKeyParts.size).toBeGreaterThan(1);
      // Within a partition, a send's records keep their order.
      for (let part = 0; part < 4; part++) {
        const inPart = got.filter((r) => r.partition === part).sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
        const order = inPart.map((r) => sent.findIndex((m) => (typeof m.value === 'string' ? Buffer.from(m.value) : m.value).equals(r.value)));
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
    });
  }

  it('lands a car on the same partition as the kafkajs producer does', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `A${String(i).padStart(4, '0')}`);
    for (const [client, topic] of [['native', 'same-native'], ['kafkajs', 'same-kafkajs']] as const) {
      await bus.createTopic(topic, 7);
      const p = await bus.producer({ client, acks: 1 });
      await p.send(topic, keys.map((k) => ({ key: k, value: k })));
      await p.close();
    }
    const [a, b] = await Promise.all([readAll(bus, 'same-native', keys.length), readAll(bus, 'same-kafkajs', keys.length)]);
    const where = (rs: typeof a) => Object.fromEntries(rs.map((r) => [r.value.toString(), r.partition]));
    expect(Object.keys(where(a)).length).toBe(keys.length);
    expect(where(a)).toEqual(where(b));
    expect(new Set(Object.values(where(a))).size).toBe(7);
  });

  it('round-trips gzip-compressed batches, and timestamps far apart in one batch', async () => {
    const topic = 'gz';
    const p = await bus.producer({ compression: 'gzip' });
    const sent: BusMessage[] = Array.from({ length: 300 }, (_, i) => ({ key: 'A0001', value: `line ${i} ${'x'.repeat(i % 50)}`, timestamp: i === 0 ? 5 : 1_700_000_000_000 + i }));
    await p.send(topic, sent);
    await p.close();
    const got = await readAll(bus, topic, sent.length);
    expect(got.map((r) => r.value.toString()).sort()).toEqual(sent.map((m) => String(m.value)).sort());
    expect(got.find((r) => r.value.toString() === 'line 0 ')!.timestamp).toBe(5);
    expect(got.find((r) => r.value.toString().startsWith('line 299 '))!.timestamp).toBe(1_700_000_000_299);
    // The batch on disk is stored compressed (attributes codec 1), as sent.
    const seg = fs.readdirSync(path.join(dataDir, `${topic}-${murmur2Partition('A0001', 4)}`)).find((f) => f.endsWith('.log'))!;
    const data = fs.readFileSync(path.join(dataDir, `${topic}-${murmur2Partition('A0001', 4)}`, seg));
    expect(data.readInt16BE(21) & 7).toBe(1);
    expect(data.length).toBeLessThan(sent.reduce((s, m) => s + String(m.value).length, 0));
  });

  it('splits a large send into batches under maxBatchBytes, and the partition keeps the send\'s order', async () => {
    const topic = 'split';
    await bus.createTopic(topic, 2);
    const p = await bus.producer({ acks: 1, maxBatchBytes: 4096 });
    const sent = Array.from({ length: 3000 }, (_, i) => ({ key: i % 2 ? 'A0001' : 'A0002', value: `20240101101530,A${i},1,0,F,N,80,A01` }));
    await p.send(topic, sent);
    await p.close();
    const got = await readAll(bus, topic, sent.length);
    expect(got.length).toBe(sent.length);
    for (const key of ['A0001', 'A0002']) {
      const inPart = got.filter((r) => r.key!.toString() === key).sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
      expect(inPart.map((r) => r.value.toString())).toEqual(sent.filter((m) => m.key === key).map((m) => m.value));
    }
    // Many batches on disk: each under the cap.
    const dir = path.join(dataDir, `${topic}-${murmur2Partition('A0001', 2)}`);
    const log = fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.log'))!));
    let batches = 0;
    for (let at = 0; at < log.length; at += 12 + log.readInt32BE(at + 8)) {
      expect(12 + log.readInt32BE(at + 8)).toBeLessThanOrEqual(4096);
      batches++;
    }
    expect(batches).toBeGreaterThan(10);
  });

  it('lets the sends in flight finish when closed', async () => {
    const p = await bus.producer({ acks: -1 });
    const sends = Array.from({ length: 6 }, (_, k) => p.send('close-wait', Array.from({ length: 500 }, (_, i) => ({ key: `A${i % 9}`, value: `c${k}-${i}` }))));
    await p.close();
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill('fulfilled'));
    expect((await readAll(bus, 'close-wait', 3000)).length).toBe(3000);
  });

  it('auto-creates a topic that does not exist, with the broker\'s default partition count', async () => {
    const p = await bus.producer({ acks: 1 });
    const keys = Array.from({ length: 40 }, (_, i) => `C${i}`);
    await p.send('never-created', keys.map((k) => ({ key: k, value: k })));
    await p.close();
    const got = await readAll(bus, 'never-created', keys.length);
    expect(got.length).toBe(keys.length);
    expect(new Set(got.map((r) => r.partition))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('rejects bad messages with the index and the reason, and keeps working', async () => {
    const p = await bus.producer({ acks: 1 });
    const bad = [{ key: 'A1', value: 'ok' }, { key: 'A2', value: null }] as unknown as BusMessage[];
    await expect(p.send('bad-input', bad)).rejects.toThrow(/message 1 of the send: value must be a string or a Buffer, got null/);
    await expect(p.send('bad-input', [{ value: 'v', timestamp: 1.5 }])).rejects.toThrow(/message 0 .*timestamp must be an integer/);
    await expect(p.send('bad-input', [{ value: 'v', headers: { h: 3 as unknown as string } }])).rejects.toThrow(/header "h" must be a string/);
    await expect(p.send('bad input!', [{ value: 'v' }])).rejects.toThrow(/topic "bad input!".*INVALID_TOPIC_EXCEPTION/);
    await p.send('bad-input', [{ key: 'A3', value: 'after' }]);
    await p.close();
    await expect(p.send('bad-input', [{ value: 'late' }])).rejects.toBeInstanceOf(ProduceError);
    const got = await readAll(bus, 'bad-input', 1);
    expect(got.map((r) => r.value.toString())).toEqual(['after']);
  });
});

const hasKcat = needTool('kcat', ['-V'], 'the bus producer read back by librdkafka');
describe.skipIf(!hasKcat)('the bus producer with kcat (librdkafka) reading', () => {
  it('kcat consumes every record, key, header and timestamp it produced', async () => {
    const topic = 'kcat-read';
    await bus.createTopic(topic, 3);
    const p = await bus.producer({ acks: -1 });
    const sent = Array.from({ length: 400 }, (_, i) => ({ key: `A${String(i % 30).padStart(4, '0')}`, value: `20240101101530,A${i},1,0,F,N,80,A01`, headers: { n: String(i) }, timestamp: 1_704_000_000_000 + i }));
    await p.send(topic, sent.slice(0, 150));
    await p.send(topic, sent.slice(150));
    await p.close();
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const k = spawn('kcat', ['-b', `127.0.0.1:${broker.port}`, '-t', topic, '-C', '-o', 'beginning', '-e', '-f', '%p|%k|%s|%h|%T\\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      k.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      k.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => k.kill('SIGKILL'), 30_000);
      k.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    });
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => l.split('|'));
    expect(lines.length).toBe(sent.length);
    const want = new Map(sent.map((m) => [m.value, m]));
    for (const [part, key, value, headers, ts] of lines) {
      const m = want.get(value)!;
      expect(m, value).toBeDefined();
      expect(key).toBe(m.key);
      expect(Number(part)).toBe(murmur2Partition(m.key, 3));
      expect(headers).toBe(`n=${m.headers.n}`);
      expect(Number(ts)).toBe(m.timestamp);
      want.delete(value);
    }
    expect(want.size).toBe(0);
  });
});
