/**
 * `smartcar stream --metrics-port`: the endpoint of a lone worker. A real worker process scraped over
 * HTTP: consumer lag is the whole backlog before it consumes and 0 once drained; the counters equal what
 * the known input implies. And /health turns 503 with the reason when a write really fails (a Redis URL
 * where nothing listens).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus } from '../../src/bus/index.ts';
import { openTableStore } from '../../src/table/index.ts';
import { openHotStore } from '../../src/hot/index.ts';
import { driverLines } from '../../src/sim/index.ts';
import { TOPIC } from '../../src/core/records.ts';
import { parseDate8 } from '../../src/core/time.ts';
import { startTopology } from '../../src/stream/index.ts';
import { SHIPPED_RULES, listenStreamStatus, serveStreamStatus } from '../../src/stream/run.ts';
import { expectedOverspeed, expectedRowKeys, waitFor } from '../support/overspeed.ts';
import { dropTestKeys, testRedisUrl } from '../support/redis.ts';

const redisUrl = testRedisUrl(7);
afterAll(() => dropTestKeys(redisUrl));
const tmpDirs: string[] = [];
const tmp = (name: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-stream-metrics-${name}-`));
  tmpDirs.push(d);
  return d;
};

function log(day: string, cars: number, records: number, seed: number): string[] {
  const lines = [...driverLines({ cars, seed, startMs: parseDate8(day), records })].filter((l) => /^\d{14}/.test(l));
  lines.splice(11, 0, '20990101000000,BAD!,1,0,F,N,50,A01');
  lines.splice(300, 0, '2024010110,A0001');
  return lines;
}

async function produce(brokers: string, lines: string[]): Promise<void> {
  const bus = createBus({ brokers: [brokers], clientId: 'metrics-producer' });
  await bus.createTopic(TOPIC, 4);
  const producer = await bus.producer({ acks: -1 });
  for (let i = 0; i < lines.length; i += 1000) await producer.send(TOPIC, lines.slice(i, i + 1000).map((l) => ({ key: l.split(',')[1] ?? null, value: l })));
  await producer.close();
  await bus.close();
}

/** `name{labels} value` lines of a Prometheus text page, summed per metric name. */
function metricSums(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m) sums.set(m[1], (sums.get(m[1]) ?? 0) + Number(m[2]));
  }
  return sums;
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
};

describe('stream metrics endpoint', () => {
  let broker: Broker;
  let redis: Redis;
  beforeAll(async () => {
    broker = await startBroker({ dataDir: tmp('broker'), port: 0, defaultPartitions: 4 });
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    await broker?.close();
    await redis?.quit();
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('a worker process serves lag (the backlog, then 0) and counters that match the input', async () => {
    const day = '20310505';
    await redis.del(day, '20310506');
    const brokers = `${broker.host}:${broker.port}`;
    const lines = log(day, 30, 100, 31);
    await produce(brokers, lines); // before the worker starts: all of it is lag
    const expected = expectedOverspeed(lines);
    const expectedAlerts = [...expected.values()].reduce((n, s) => n + s.size, 0);
    expect(expectedAlerts).toBeGreaterThan(0);

    const proc: ChildProcess = spawn(process.execPath, ['bin/smartcar.js', 'stream', '--data', tmp('data'), '--kafka', brokers, '--redis', redisUrl,
      '--group', 'g-metrics', '--rules', SHIPPED_RULES, '--idle-close', '1000', '--metrics-port', '0', '--lag-interval', '15000'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' },
    });
    let out = '', err = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    try {
      await waitFor(() => /^metrics listening /m.test(out) || proc.exitCode !== null, 120_000, `the metrics line (stderr: ${err})`);
      const at = /^metrics listening (127\.0\.0\.1:(\d+))$/m.exec(out);
      expect(at, `stdout: ${out}\nstderr: ${err}`).not.toBeNull();
      const base = `http://${at![1]}`;
      // The first lag sample is taken before consuming, and holds until the next one: 15 s, far longer than
      // the gap between the worker printing its metrics line and this request, even on a loaded machine.
      const first = metricSums((await get(`${base}/metrics`)).body);
      expect(first.get('smartcar_stream_consumer_lag')).toBe(lines.length);
      const health = await get(`${base}/health`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', members: 1 });

      let last = new Map<string, number>();
      await waitFor(async () => {
        last = metricSums((await get(`${base}/metrics`)).body);
        return last.get('smartcar_stream_consumer_lag') === 0 && last.get('smartcar_stream_alerts_total') === expectedAlerts;
      }, 270_000, 'lag 0 and every alert');
      expect(last.get('smartcar_stream_records_consumed_total')).toBe(lines.length);
      expect(last.get('smartcar_stream_rows_stored_total')).toBe(expectedRowKeys(lines).size);
      expect(last.get('smartcar_stream_dead_letters_total')).toBe(2);
      expect(last.get('smartcar_stream_append_to_table_seconds_count')).toBeGreaterThan(0);
      expect(out.match(/^metrics listening /gm)).toHaveLength(1);
      expect((await get(`${base}/nope`)).status).toBe(404);
    } finally {
      proc.kill('SIGTERM');
      await new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
    }
    expect(proc.exitCode).toBe(0);
  });

  it('/health says starting until the members run', async () => {
    const server = await listenStreamStatus([], 0);
    try {
      const h = await get(`http://127.0.0.1:${server.port}/health`);
      expect(h.status).toBe(503);
      expect(JSON.parse(h.body)).toEqual({ status: 'down', reason: 'starting' });
    } finally {
      await server.close();
    }
  });

  it('a port already in use is a clear error', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      await expect(serveStreamStatus([], port)).rejects.toThrow(new RegExp(`port ${port} on 127.0.0.1 is in use; choose another with --metrics-port`));
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it('/health is 503 with the reason once a write fails', async () => {
    const day = '20310605';
    const brokers = `${broker.host}:${broker.port}`;
    const topic = 'metrics-fail';
    const bus = createBus({ brokers: [brokers], clientId: 'metrics-fail' });
    await bus.createTopic(topic, 2);
    const lines = log(day, 20, 120, 32);
    expect(expectedOverspeed(lines).size).toBeGreaterThan(0);
    const table = await openTableStore({ kind: 'lmdb', path: path.join(tmp('fail'), 'table') });
    // A real fault: a Redis server of this test's own, reachable when the store opens (opening checks
    // that), then killed before any input, so publishing the first alert fails after ioredis's retries.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(async () => {
      const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    }, 30_000, 'the test\'s own redis-server');
    const hot = await openHotStore({ kind: 'redis', url: `redis://127.0.0.1:${port}/0` });
    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    const topo = await startTopology({ bus, table, hot, rulesDir: SHIPPED_RULES, topic, groupId: 'g-metrics-fail', idleCloseMs: 1000, lagIntervalMs: 500 });
    const status = await serveStreamStatus([topo], 0);
    try {
      // Healthy while nothing has been written: the input is produced only after this check, so the
      // failure cannot have happened yet.
      expect((await get(`http://127.0.0.1:${status.port}/health`)).status).toBe(200);
      const producer = await bus.producer({ acks: -1 });
      await producer.send(topic, lines.map((l) => ({ key: l.split(',')[1] ?? null, value: l })));
      await producer.close();
      await expect(topo.done).rejects.toThrow();
      const h = await get(`http://127.0.0.1:${status.port}/health`);
      expect(h.status).toBe(503);
      const body = JSON.parse(h.body) as { status: string; reason: string };
      expect(body.status).toBe('down');
      expect(body.reason.length).toBeGreaterThan(0);
      expect(topo.stats().alerts).toBe(0);
    } finally {
      await status.close();
      await topo.stop();
      (hot as unknown as { client: Redis }).client.disconnect();
      await table.close();
      await bus.close();
    }
  });
});
