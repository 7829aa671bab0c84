import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus } from '../../src/bus/index.ts';
import { openTableStore } from '../../src/table/index.ts';
import { openHotStore } from '../../src/hot/index.ts';
import { driverLines } from '../../src/sim/index.ts';
import { DRIVER_TABLE, TOPIC } from '../../src/core/records.ts';
import { parseDate8 } from '../../src/core/time.ts';
import { startTopology, DEAD_LETTER_TOPIC } from '../../src/stream/index.ts';
import { SHIPPED_RULES } from '../../src/stream/run.ts';
import { expectedOverspeed, expectedRowKeys, waitFor } from '../support/overspeed.ts';
import { specDriving, specRowKey } from '../support/spec.ts';
import type { TableStore } from '../../src/table/types.ts';
import { dropTestKeys, testRedisUrl } from '../support/redis.ts';

const REDIS_DB = 7;
const redisUrl = testRedisUrl(REDIS_DB);
afterAll(() => dropTestKeys(redisUrl));
const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-stream-${name}-`));

/** A seeded log with wild drivers, in a day no other test uses, plus some garbage lines. */
function seededLog(day: string, cars: number, records: number, seed: number): string[] {
  // What the collection agent forwards: record lines only (its filter drops the per-car headers).
  const lines = [...driverLines({ cars, seed, startMs: parseDate8(day), records })].filter((l) => /^\d{14}/.test(l));
  // Garbage that passes the agent's filter and must be dead-lettered by the stream.
  lines.splice(17, 0, '20990101000000,BAD!,1,0,F,N,50,A01');
  lines.splice(400, 0, '2024010110,A0001');
  return lines;
}

async function produce(brokers: string[], lines: string[]): Promise<void> {
  const bus = createBus({ brokers, clientId: 'test-producer' });
  const producer = await bus.producer({ acks: -1 });
  for (let i = 0; i < lines.length; i += 1000) {
    await producer.send(TOPIC, lines.slice(i, i + 1000).map((l) => ({ key: l.split(',')[1] ?? null, value: l })));
  }
  await producer.close();
  await bus.close();
}

/** Every row key of DriverCarInfo, sorted. */
async function rowKeys(table: TableStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const r of table.scan(DRIVER_TABLE, {})) keys.push(r.row);
  return keys.sort();
}

async function redisSets(redis: Redis, days: Iterable<string>): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const d of days) {
    const members = await redis.smembers(d);
    if (members.length) out.set(d, new Set(members));
  }
  return out;
}

describe('driving topology against the embedded broker, LMDB and Redis', () => {
  let broker: Broker;
  let redis: Redis;
  const brokerDir = tmp('broker');

  beforeAll(async () => {
    broker = await startBroker({ dataDir: brokerDir, port: 0, defaultPartitions: 4 });
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await broker?.close();
    await redis?.quit();
  });

  it('stores every record once, dead-letters garbage, and publishes exactly the overspeeding cars with a 7-day TTL', async () => {
    const day = '20310105';
    await redis.del(day, '20310106');
    const lines = seededLog(day, 30, 120, 11);
    const brokers = [`${broker.host}:${broker.port}`];
    const bus = createBus({ brokers, clientId: 't1' });
    await bus.createTopic(TOPIC, 4);
    await produce(brokers, lines);

    const dataDir = tmp('data');
    const table = await openTableStore({ kind: 'lmdb', path: path.join(dataDir, 'table') });
    const hot = await openHotStore({ kind: 'redis', url: redisUrl });
    const topo = await startTopology({ bus, table, hot, rulesDir: SHIPPED_RULES, groupId: 'g-once', idleCloseMs: 1000 });
    const expected = expectedOverspeed(lines);
    const rows = expectedRowKeys(lines);
    try {
      await waitFor(async () => (await table.count(DRIVER_TABLE)) === rows.size && topo.stats().deadLetters === 2, 180_000, 'all rows stored');
      expect(await rowKeys(table)).toEqual([...rows].sort());
      // Idle close: the last windows close once input stops.
      await waitFor(async () => {
        const got = await redisSets(redis, expected.keys());
        return [...expected].every(([d, s]) => got.get(d)?.size === s.size);
      }, 120_000, 'alerts published');
      expect(await redisSets(redis, [day, '20310106'])).toEqual(expected);
      const ttl = await redis.ttl(day);
      expect(ttl).toBeGreaterThan(604_800 - 60);
      expect(ttl).toBeLessThanOrEqual(604_800);
      expect(topo.stats().deadLetters).toBe(2);
      // A scan with a filter equals the same filter over the file.
      const fast: string[] = [];
      for await (const r of table.scan(DRIVER_TABLE, { filters: [{ column: 'cf1:speed', op: '>', value: '100' }] })) fast.push(r.row);
      const expectedFast = new Set(lines.map(specDriving).filter((r) => r !== undefined && r.speed > 100).map((r) => specRowKey(r!.date, r!.car)));
      expect(expectedFast.size).toBeGreaterThan(10);
      expect(fast.sort()).toEqual([...expectedFast].sort());
    } finally {
      await topo.stop();
      await hot.close();
      await table.close();
      await bus.close();
    }
    // The dead letters carry the reason.
    const dlqBus = createBus({ brokers, clientId: 'dlq-reader' });
    const consumer = await dlqBus.consumer({ groupId: 'dlq-check', topics: [DEAD_LETTER_TOPIC], fromBeginning: true });
    const reasons: string[] = [];
    const run = consumer.run(async (b) => {
      for (const r of b.records) reasons.push(r.headers.reason);
    });
    await waitFor(() => reasons.length >= 2, 120_000, 'dead letters');
    await consumer.stop();
    await run.catch(() => {});
    await dlqBus.close();
    expect(reasons.sort()).toEqual(['bad car number \'BAD!\'', 'expected 8 fields, got 2'].sort());
  });
});

describe('redeliveries from the collection agent (its Kafka sink is at-least-once)', () => {
  let broker: Broker;
  let redis: Redis;
  beforeAll(async () => {
    broker = await startBroker({ dataDir: tmp('broker-redeliver'), port: 0, defaultPartitions: 4 });
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await broker?.close();
    await redis?.quit();
  });

  it('a batch sent twice is stored once and counted once by the rules', async () => {
    const day = '20310107';
    await redis.del(day, '20310108');
    const lines = seededLog(day, 30, 120, 23);
    // What a crash between the broker's acknowledgement and the sink's commit produces: the last batch again.
    const at = 2000;
    const sent = [...lines.slice(0, at), ...lines.slice(at - 300, at), ...lines.slice(at)];
    const brokers = [`${broker.host}:${broker.port}`];
    const bus = createBus({ brokers, clientId: 't-redeliver' });
    await bus.createTopic(TOPIC, 4);
    await produce(brokers, sent);
    const dataDir = tmp('data-redeliver');
    const table = await openTableStore({ kind: 'lmdb', path: path.join(dataDir, 'table') });
    const hot = await openHotStore({ kind: 'redis', url: redisUrl });
    const topo = await startTopology({ bus, table, hot, rulesDir: SHIPPED_RULES, groupId: 'g-redeliver', idleCloseMs: 1000 });
    const expected = expectedOverspeed(lines);
    try {
      const rows = expectedRowKeys(lines);
      await waitFor(async () => (await table.count(DRIVER_TABLE)) === rows.size && topo.stats().consumed === sent.length, 180_000, 'all rows stored');
      expect(await rowKeys(table)).toEqual([...rows].sort());
      await waitFor(async () => {
        const got = await redisSets(redis, expected.keys());
        return [...expected].every(([d, s]) => got.get(d)?.size === s.size);
      }, 120_000, 'alerts published');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await redisSets(redis, [day, '20310108'])).toEqual(expected);
    } finally {
      await topo.stop();
      await hot.close();
      await table.close();
      await bus.close();
    }
  });
});

/** Real processes: `smartcar stream` killed with -9 mid-stream, then restarted / survived by a second worker. */
describe('stream workers as real processes', () => {
  let broker: Broker;
  let redis: Redis;
  beforeAll(async () => {
    broker = await startBroker({ dataDir: tmp('broker2'), port: 0, defaultPartitions: 4 });
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await broker?.close();
    await redis?.quit();
  });

  const PG = process.env.TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
  // What the workers wrote on stderr (warnings and errors), shown when a case fails.
  let workerLog = '';
  const startWorker = (dataDir: string, brokers: string, group: string, pgSchema?: string): ChildProcess => {
    const c = spawn(process.execPath, ['bin/smartcar.js', 'stream', '--data', dataDir, '--kafka', brokers, '--redis', redisUrl, '--group', group, '--rules', SHIPPED_RULES, '--session-timeout', '6000', ...(pgSchema ? ['--postgres', PG] : [])], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn', ...(pgSchema ? { SMARTCAR_POSTGRES_SCHEMA: pgSchema } : {}) },
    });
    const tag = `[worker ${c.pid}] `;
    c.stderr!.on('data', (b: Buffer) => { workerLog += b.toString().replace(/^(?=.)/gm, tag); });
    return c;
  };
  const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

  // Each case has its own broker: a shared topic would hand one case's records to the next case's group.
  it.each([
    ['restart after kill -9 (LMDB)', 1, '20310201', 21, false],
    ['two workers on one LMDB store, one killed: the survivor takes over', 2, '20310301', 22, false],
    ['two workers on PostgreSQL, one killed: the survivor takes over', 2, '20310401', 23, true],
  ])('%s reaches the same final state', async (_name, workers, day, seed, onPg) => {
    const pgSchema = onPg ? `test_stream_${process.pid}` : undefined;
    await broker?.close();
    broker = await startBroker({ dataDir: tmp('broker-case'), port: 0, defaultPartitions: 4 });
    const nextDay = String(Number(day) + 1);
    await redis.del(day, nextDay);
    const brokers = `${broker.host}:${broker.port}`;
    // The windows close by event time, never by the idle close (60 s by default): on a loaded machine the
    // pause of the kill can pass a short idle-close time and close windows half full. A last record of each
    // car, hours later and at speed 0, moves every partition's watermark past the data's windows.
    const data = seededLog(day, 40, 150, seed);
    const cars = [...new Set(data.map((l) => l.split(',')[1]).filter((c) => /^[A-Z]\d{4}$/.test(c)))];
    const lines = [...data, ...cars.map((c) => `${day}120000,${c},0,0,F,N,0,A01`)];
    const bus = createBus({ brokers: [brokers], clientId: 'setup' });
    await bus.createTopic(TOPIC, 4).catch(() => {});
    await bus.close();
    const dataDir = tmp('proc');
    const group = `g-${day}`;
    let procs = Array.from({ length: workers }, () => startWorker(dataDir, brokers, group, pgSchema));
    await produce([brokers], lines.slice(0, 2500));
    const tablePath = path.join(dataDir, 'table');
    if (!pgSchema) await waitFor(() => fs.existsSync(tablePath), 120_000, 'table created');
    const table = pgSchema ? await openTableStore({ kind: 'postgres', url: PG, schema: pgSchema }) : await openTableStore({ kind: 'lmdb', path: tablePath });
    workerLog = '';
    try {
      await waitFor(async () => (await table.count(DRIVER_TABLE).catch(() => 0)) > 500, 180_000, 'some rows stored');
      procs[0].kill('SIGKILL');
      await exited(procs[0]);
      await produce([brokers], lines.slice(2500));
      procs = workers === 1 ? [startWorker(dataDir, brokers, group, pgSchema)] : procs.slice(1);
      const rows = expectedRowKeys(lines);
      const expected = expectedOverspeed(lines);
      await waitFor(async () => (await table.count(DRIVER_TABLE)) === rows.size, 270_000, 'all rows stored after the kill');
      await waitFor(async () => {
        const got = await redisSets(redis, [day, nextDay]);
        return [...expected].every(([d, s]) => got.get(d)?.size === s.size);
      }, 135_000, 'alerts after the kill');
      expect(await redisSets(redis, [day, nextDay])).toEqual(expected);
      expect(await rowKeys(table)).toEqual([...rows].sort());
    } catch (err) {
      const n = await table.count(DRIVER_TABLE).catch(() => -1);
      throw new Error(`${(err as Error).message}; ${n} of ${expectedRowKeys(lines).size} rows stored; the workers' stderr:\n${workerLog.slice(-20_000)}`, { cause: err });
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map(exited));
      if (pgSchema) await (table as unknown as { dropSchema(): Promise<void> }).dropSchema();
      await table.close();
    }
  }, 600_000);
});
