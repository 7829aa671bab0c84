/**
 * The bus producer's failure paths. Partition errors, a silent broker and a connection dropped mid-request
 * cannot be produced by the embedded broker on demand, so they come from a scripted broker speaking the
 * protocol (support.ts); an unreachable broker and a broker without auto-creation are real.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../src/broker/index.ts';
import { createBus, ProduceError } from '../../src/bus/index.ts';
import { createNativeProducer } from '../../src/bus/producer.ts';
import { closedPort, scriptedBroker } from './support.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `A${i % 10}`, value: `line ${i}` }));

describe('the bus producer with several brokers', () => {
  it('sends each partition\'s batch to its leader, one request per leader', async () => {
    const ports: number[] = [];
    const cluster = { nodes: () => ports, leader: (p: number) => p % 2 };
    const a = await scriptedBroker(4, () => 0, cluster);
    const b = await scriptedBroker(4, () => 0, cluster);
    ports.push(a.port, b.port);
    cleanup.push(a.close, b.close);
    const p = await createNativeProducer({ brokers: [`127.0.0.1:${a.port}`], acks: 1 });
    cleanup.push(() => p.close());
    await p.send('t', Array.from({ length: 200 }, (_, i) => ({ key: `A${i}`, value: 'v' })));
    expect(a.produced).toBe(1);
    expect(b.produced).toBe(1);
    expect(a.producedPartitions.sort()).toEqual([0, 2]);
    expect(b.producedPartitions.sort()).toEqual([1, 3]);
    // Metadata came from the bootstrap broker only.
    expect([a.metadata, b.metadata]).toEqual([1, 0]);
  });

  it('follows a leader that moved: NOT_LEADER_FOR_PARTITION, fresh metadata, the batch goes to the new leader', async () => {
    const ports: number[] = [];
    let moved = false;
    const cluster = { nodes: () => ports, leader: (p: number) => (moved ? 0 : p % 2) };
    const a = await scriptedBroker(4, () => 0, cluster);
    const b = await scriptedBroker(4, () => { moved = true; return 6; }, cluster);
    ports.push(a.port, b.port);
    cleanup.push(a.close, b.close);
    const p = await createNativeProducer({ brokers: [`127.0.0.1:${a.port}`], acks: -1, retryBackoffMs: 10 });
    cleanup.push(() => p.close());
    await p.send('t', Array.from({ length: 200 }, (_, i) => ({ key: `A${i}`, value: 'v' })));
    expect(b.produced).toBe(1);
    expect(a.producedPartitions.sort()).toEqual([0, 1, 2, 3]);
    expect(a.metadata).toBe(2);
  });
});

describe('the bus producer when things go wrong', () => {
  it('refreshes metadata and retries after NOT_LEADER_FOR_PARTITION, then succeeds', async () => {
    const b = await scriptedBroker(4, (n) => (n < 2 ? 6 : 0));
    cleanup.push(b.close);
    const p = await createNativeProducer({ brokers: [`127.0.0.1:${b.port}`], acks: 1, retryBackoffMs: 10 });
    cleanup.push(() => p.close());
    await p.send('t', lines(100));
    expect(b.produced).toBe(3);
    // The first lookup, then one refresh per retry.
    expect(b.metadata).toBe(3);
  });

  it('rejects with the Kafka error name, broker and topic once retries are exhausted', async () => {
    const b = await scriptedBroker(2, () => 6);
    cleanup.push(b.close);
    const p = await createNativeProducer({ brokers: [`127.0.0.1:${b.port}`], acks: -1, retries: 3, retryBackoffMs: 10 });
    cleanup.push(() => p.close());
    const err = await p.send('cars', lines(10)).catch((e: ProduceError) => e);
    expect(err).toBeInstanceOf(ProduceError);
    expect((err as ProduceError).errorName).toBe('NOT_LEADER_FOR_PARTITION');
    expect((err as Error).message).toMatch(new RegExp(`failed after 3 retries .*broker 127\\.0\\.0\\.1:${b.port} answered NOT_LEADER_FOR_PARTITION for topic "cars"`));
    expect(b.produced).toBe(4);
  });

  it('rejects at once on a non-retriable partition error (MESSAGE_TOO_LARGE)', async () => {
    const b = await scriptedBroker(1, () => 10);
    cleanup.push(b.close);
    const p = await createNativeProducer({ brokers: [`127.0.0.1:${b.port}`], acks: 1, retryBackoffMs: 10 });
    cleanup.push(() => p.close());
    await expect(p.send('t', lines(3))).rejects.toThrow(/answered MESSAGE_TOO_LARGE for topic "t" partition 0/);
    expect(b.produced).toBe(1);
  });

  it('rejects the sends in flight when the connection breaks, and reconnects for the next send', async () => {
    const b = await scriptedBroker(2, (n) => (n === 0 ? 'hang' : n === 1 ? 'drop' : 0));
    cleanup.push(b.close);
    const p = await createNativeProducer({ brokers: [`127.0.0.1:${b.port}`], acks: 1, retryBackoffMs: 10 });
    cleanup.push(() => p.close());
    const first = p.send('t', lines(5)).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    const second = p.send('t', lines(7)).catch((e: Error) => e);
    const [e1, e2] = await Promise.all([first, second]);
    for (const e of [e1, e2]) {
      expect(e).toBeInstanceOf(ProduceError);
      expect((e as Error).message).toMatch(/connection to 127\.0\.0\.1:\d+ (closed|failed).*in flight \(they may or may not have been written; send them again\)/);
    }
    await p.send('t', lines(2));
    expect(b.produced).toBe(3);
  });

  it('rejects a send whose response is malformed, and reconnects for the next', async () => {
    const b = await scriptedBroker(1, (n) => (n === 0 ? 'garbage' : 0));
    cleanup.push(b.close);
    const p = await createNativeProducer({ brokers: [`127.0.0.1:${b.port}`], acks: 1 });
    cleanup.push(() => p.close());
    const err = await p.send('t', lines(1)).catch((e: ProduceError) => e);
    expect((err as ProduceError).errorName).toBe('MALFORMED_RESPONSE');
    expect((err as Error).message).toMatch(/broker 127\.0\.0\.1:\d+ sent a malformed Produce v7 response for topic "t" \(.*\); whether the records were written is unknown/);
    await p.send('t', lines(1));
    expect(b.produced).toBe(2);
  });

  it('times out a request the broker never answers, with REQUEST_TIMED_OUT', async () => {
    const b = await scriptedBroker(1, (n) => (n === 0 ? 'hang' : 0));
    cleanup.push(b.close);
    const p = await createNativeProducer({ brokers: [`127.0.0.1:${b.port}`], acks: 1, requestTimeoutMs: 300 });
    cleanup.push(() => p.close());
    const t0 = Date.now();
    const err = await p.send('t', lines(1)).catch((e: ProduceError) => e);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((err as ProduceError).errorName).toBe('REQUEST_TIMED_OUT');
    expect((err as Error).message).toMatch(/got no response within 300 ms/);
    await p.send('t', lines(1));
  });

  it('gives a clear error within a bounded time when no broker is reachable', async () => {
    const port = await closedPort();
    const bus = createBus({ brokers: [`127.0.0.1:${port}`] });
    cleanup.push(() => bus.close());
    const t0 = Date.now();
    const err = await bus.producer({ retries: 3, retryBackoffMs: 50 }).catch((e: Error) => e);
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(ProduceError);
    expect((err as Error).message).toMatch(new RegExp(`no broker reachable among 127\\.0\\.0\\.1:${port} after 3 retries: cannot connect to broker 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
    // 50 + 100 + 200 ms of backoff, and refused connections are immediate.
    expect(ms).toBeGreaterThanOrEqual(340);
    expect(ms).toBeLessThan(3000);
  });

  it('says to create the topic first when the broker does not auto-create it', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bus-noauto-'));
    const broker = await startBroker({ dataDir, port: 0, autoCreateTopics: false });
    cleanup.push(async () => { await broker.close(); fs.rmSync(dataDir, { recursive: true, force: true }); });
    const bus = createBus({ brokers: [`127.0.0.1:${broker.port}`] });
    cleanup.push(() => bus.close());
    const p = await bus.producer({ retries: 2, retryBackoffMs: 20 });
    const t0 = Date.now();
    await expect(p.send('missing', lines(1))).rejects.toThrow(/cannot get metadata for topic "missing" after 2 retries: .*UNKNOWN_TOPIC_OR_PARTITION \(is topic auto-creation disabled\? create it first\)/);
    expect(Date.now() - t0).toBeLessThan(2000);
    await bus.createTopic('missing', 2);
    await p.send('missing', lines(4));
  });
});
