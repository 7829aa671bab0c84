import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus, type Bus, type BusProducer } from '../../src/bus/index.ts';
import type { TableStore } from '../../src/table/types.ts';
import type { HotStore } from '../../src/hot/index.ts';
import { openTableStore } from '../../src/table/index.ts';
import { openHotStore } from '../../src/hot/index.ts';
import { DRIVER_TABLE, TOPIC } from '../../src/core/records.ts';
import { STREAM_STATE_TABLE, startTopology } from '../../src/stream/index.ts';
import { parseDrivingRecordBytes } from '../../src/core/records.ts';
import { SHIPPED_RULES } from '../../src/stream/run.ts';
import { waitFor } from '../support/spec.ts';
import { dropTestKeys, testRedisUrl } from '../support/redis.ts';

const redisUrl = testRedisUrl(7);
afterAll(() => dropTestKeys(redisUrl));

// A car's record: date, car, speed pedal, brake pedal, steering, indicator, speed, area.
const record = (time: string, speed: number, car = 'W0001', day = '20310301') => `${day}${time},${car},1,0,F,N,${speed},A01`;

/** A bus (with `topic`), a producer, a fresh LMDB table store and the Redis hot store, closed after `fn`. */
async function withPipeline(brokers: string[], topic: string, fn: (p: { bus: Bus; producer: BusProducer; table: TableStore; hot: HotStore }) => Promise<void>): Promise<void> {
  const bus = createBus({ brokers, clientId: `wm-${topic}` });
  await bus.createTopic(topic, 1);
  const producer = await bus.producer({ acks: -1 });
  const table = await openTableStore({ kind: 'lmdb', path: fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-wm-table-')) });
  const hot = await openHotStore({ kind: 'redis', url: redisUrl });
  try {
    await fn({ bus, producer, table, hot });
  } finally {
    await producer.close();
    await hot.close();
    await table.close();
    await bus.close();
  }
}

describe('the watermark saved with the offset commit', () => {
  let broker: Broker;
  let redis: Redis;
  beforeAll(async () => {
    broker = await startBroker({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-wm-broker-')), port: 0, defaultPartitions: 1 });
    redis = new Redis(redisUrl);
    await redis.del('20310301', '20310302');
  });
  afterAll(async () => {
    await broker?.close();
    await redis?.quit();
  });

  it('survives a restart: a record for a window closed before it is late, not a new alert', async () => {
    await withPipeline([`${broker.host}:${broker.port}`], TOPIC, async ({ bus, producer, table, hot }) => {
      const options = { bus, table, hot, rulesDir: SHIPPED_RULES, groupId: 'g-watermark', idleCloseMs: 300 };
      // 15 records at 50 km/h in the window 12:00:00–12:00:30 (no alert), then another car at 12:00:45,
      // which moves the watermark past that window. The input then stops, the idle close ends the last
      // window, and the commit carries the watermark (12:00:45) with the offset past every record.
      await producer.send(TOPIC, [
        ...Array.from({ length: 15 }, (_, i) => ({ key: 'W0001', value: record(`1200${String(i).padStart(2, '0')}`, 50) })),
        { key: 'V0001', value: record('120045', 50, 'V0001') },
      ]);
      const first = await startTopology(options);
      await waitFor(async () => (await bus.committed('g-watermark', TOPIC)).some((c) => c.offset === '16' && /^watermark=/.test(c.metadata)), 60_000, 'the idle close committed');
      await first.stop();

      // A restarted worker, then a record of the closed window at 200 km/h: read first after the restart,
      // alone in its window, it would average 200 and publish the car. It is late instead.
      const second = await startTopology(options);
      await producer.send(TOPIC, [{ key: 'W0001', value: record('120020', 200) }]);
      try {
        await waitFor(async () => (await table.count(DRIVER_TABLE)) === 17, 60_000, 'the late record stored');
        // Past another idle close: counted late, nothing published.
        await new Promise((r) => setTimeout(r, 1000));
        expect(second.stats().late).toBe(1);
        expect(await redis.smembers('20310301')).toEqual([]);
        expect(second.stats().alerts).toBe(0);
      } finally {
        await second.stop();
      }
    });
  });
  it('is read from the state table of earlier versions when the commit has none', async () => {
    const topic = 'wm-earlier';
    const groupId = 'g-watermark-earlier';
    await withPipeline([`${broker.host}:${broker.port}`], topic, async ({ bus, producer, table, hot }) => {
      await producer.send(topic, Array.from({ length: 16 }, (_, i) => ({ key: 'W0001', value: record(`1200${String(i).padStart(2, '0')}`, 50, 'W0001', '20310302') })));
      // What an earlier version left: the offset committed without metadata, the watermark in its row.
      const consumer = await bus.consumer({ groupId, topics: [topic], fromBeginning: true, manualCommit: true });
      let committed!: () => void;
      const done = new Promise<void>((r) => (committed = r));
      const run = consumer.run(async (b) => {
        await consumer.commit(topic, b.partition, '16');
        committed();
      });
      await done;
      await consumer.stop();
      await run.catch(() => {});
      const parsed = parseDrivingRecordBytes(Buffer.from(record('120045', 50, 'W0001', '20310302')));
      if (!parsed.ok) throw new Error(parsed.reason);
      await table.createTable({ name: STREAM_STATE_TABLE, families: ['s'] });
      await table.put(STREAM_STATE_TABLE, `${groupId}/${topic}/0`, { 's:watermark': String(parsed.record.eventTime), 's:offset': '16' });

      const topo = await startTopology({ bus, table, hot, rulesDir: SHIPPED_RULES, groupId, topic, idleCloseMs: 300 });
      await producer.send(topic, [{ key: 'W0001', value: record('120020', 200, 'W0001', '20310302') }]);
      try {
        await waitFor(async () => (await table.count(DRIVER_TABLE)) === 1, 60_000, 'the late record stored');
        await new Promise((r) => setTimeout(r, 1000));
        expect(topo.stats().late).toBe(1);
        expect(await redis.smembers('20310302')).toEqual([]);
      } finally {
        await topo.stop();
      }
    });
  });
});
