import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { dayKeys, openHotStore, publishOverspeed, OVERSPEED_TTL_SECONDS } from '../../src/hot/index.ts';
import { EmbeddedHotStore } from '../../src/hot/embedded.ts';
import type { HotStore } from '../../src/hot/index.ts';

const REDIS = 'redis://127.0.0.1:6379/6';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-hot-'));
const stores: HotStore[] = [];
afterAll(async () => { for (const s of stores) await s.close(); });

const kinds = [
  ['redis', () => openHotStore({ kind: 'redis', url: REDIS })],
  ['embedded', () => openHotStore({ kind: 'embedded', path: path.join(dataDir, 'hot') })],
] as const;

describe.each(kinds)('hot store: %s', (kind, open) => {
  // Far-future days unique to this run and store, so parallel runs never share a key.
  const day = `29${String(process.pid % 100).padStart(2, '0')}${kind === 'redis' ? '0101' : '0102'}`;

  it('has Redis set and expiry semantics', async () => {
    const hot = await open();
    stores.push(hot);
    const k = `k-${day}`;
    await hot.del(k);
    expect(await hot.ttl(k)).toBe(-2);
    expect(await hot.sadd(k, 'a', 'b')).toBe(2);
    expect(await hot.sadd(k, 'b', 'c')).toBe(1);
    expect((await hot.smembers(k)).sort()).toEqual(['a', 'b', 'c']);
    expect(await hot.ttl(k)).toBe(-1);
    await hot.expire(k, 100);
    expect(await hot.ttl(k)).toBeGreaterThan(95);
    await hot.del(k);
    expect(await hot.smembers(k)).toEqual([]);
  });

  it('publishes overspeed alerts exactly as SEED §5, idempotently, with a 7-day TTL', async () => {
    const hot = await open();
    stores.push(hot);
    await hot.del(day);
    const alerts = [
      { carNumber: 'A0001', date: `${day}101530`, avgSpeed: 95, windowStart: 0, windowEnd: 0 },
      { carNumber: 'B0002', date: `${day}101559`, avgSpeed: 120, windowStart: 0, windowEnd: 0 },
    ];
    await publishOverspeed(hot, alerts);
    await publishOverspeed(hot, alerts);
    expect((await hot.smembers(day)).sort()).toEqual([`A0001-${day}101530`, `B0002-${day}101559`]);
    const ttl = await hot.ttl(day);
    expect(ttl).toBeGreaterThan(OVERSPEED_TTL_SECONDS - 5);
    expect(ttl).toBeLessThanOrEqual(OVERSPEED_TTL_SECONDS);
  });
});

describe('embedded hot store', () => {
  it('expires keys like Redis: gone on read after the TTL, and swept', async () => {
    let now = 1_000_000;
    const hot = new EmbeddedHotStore(path.join(dataDir, 'clock'), () => now);
    await hot.sadd('x', 'a');
    await hot.expire('x', 10);
    now += 9_000;
    expect(await hot.smembers('x')).toEqual(['a']);
    now += 2_000;
    expect(await hot.smembers('x')).toEqual([]);
    expect(await hot.ttl('x')).toBe(-2);
    expect(await hot.sweep()).toBe(1);
    await hot.close();
  });

  it('is read by another process: smartcar overspeed prints the day and --consume deletes it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-hot-cli-'));
    const hot = await openHotStore({ kind: 'embedded', path: path.join(dir, 'hot') });
    await publishOverspeed(hot, [{ carNumber: 'C0003', date: '20240101120000', avgSpeed: 90, windowStart: 0, windowEnd: 0 }]);
    const out = execFileSync(process.execPath, ['bin/smartcar.js', 'overspeed', '--date', '20240101', '--data', dir, '--consume'], { encoding: 'utf8' });
    expect(out).toContain('20240101: 1 overspeeding (expires in 168 h)');
    expect(out).toContain('C0003-20240101120000');
    expect(await hot.smembers('20240101')).toEqual([]);
    await hot.close();
  });

  it('reads real Redis the same way', async () => {
    // A day of this process's own, so a suite of another checkout on the same Redis never shares it.
    const d = `2099${String((process.pid % 12) + 1).padStart(2, '0')}${String((process.pid % 28) + 1).padStart(2, '0')}`;
    const r = new Redis(REDIS);
    await r.del(d);
    await r.sadd(d, `D0004-${d}000000`);
    const out = execFileSync(process.execPath, ['bin/smartcar.js', 'overspeed', '--date', d, '--redis', REDIS], { encoding: 'utf8' });
    expect(out).toContain(`D0004-${d}000000`);
    await r.del(d);
    await r.quit();
  });
});

describe('Redis key prefix (?keyPrefix= in the URL)', () => {
  it('namespaces every key, the published day sets and dayKeys included, and leaves other prefixes alone', async () => {
    const a = await openHotStore({ kind: 'redis', url: `${REDIS}?keyPrefix=t${process.pid}a:` });
    const b = await openHotStore({ kind: 'redis', url: `${REDIS}?keyPrefix=t${process.pid}b:` });
    stores.push(a, b);
    const day = '29990404';
    await a.del(day); await b.del(day);
    await publishOverspeed(a, [{ carNumber: 'E0005', date: `${day}000000`, avgSpeed: 99, windowStart: 0, windowEnd: 0 }]);
    expect(await a.smembers(day)).toEqual([`E0005-${day}000000`]);
    expect(await b.smembers(day)).toEqual([]);
    expect(await dayKeys(a)).toContain(day);
    expect(await dayKeys(b)).not.toContain(day);
    // The raw key carries the prefix, as an outside application that shares the namespace reads it.
    const r = new Redis(REDIS);
    expect(await r.smembers(`t${process.pid}a:${day}`)).toEqual([`E0005-${day}000000`]);
    expect(await r.ttl(`t${process.pid}a:${day}`)).toBeGreaterThan(OVERSPEED_TTL_SECONDS - 5);
    await r.quit();
    await a.del(day);
  });
});
