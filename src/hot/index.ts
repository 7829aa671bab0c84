/**
 * The hot store (the Redis role): the overspeed alerts for outside applications, in Redis or embedded
 * under the data directory, behind one interface (types.ts).
 */
export type * from './types.ts';
import type { HotStore, OverspeedAlert } from './types.ts';

/** Overspeed alerts live one week (EXPIRE 604,800 s on each write), then go for good. */
export const OVERSPEED_TTL_SECONDS = 604_800;

export type HotStoreOptions = { kind: 'redis'; url: string } | { kind: 'embedded'; path: string };

export async function openHotStore(opts: HotStoreOptions): Promise<HotStore> {
  if (opts.kind === 'redis') {
    const { RedisHotStore } = await import('./redis.ts');
    const store = new RedisHotStore(opts.url);
    await store.reachable();
    return store;
  }
  const { EmbeddedHotStore } = await import('./embedded.ts');
  return new EmbeddedHotStore(opts.path);
}

/**
 * Publishes alerts as the original's Redis bolt did: `SADD <yyyyMMdd> <car>-<yyyyMMddHHmmss>` then
 * `EXPIRE <yyyyMMdd> 604800`, the day and timestamp from the alert's event. Idempotent. On Redis the
 * whole call is one pipelined round trip.
 */
export async function publishOverspeed(hot: HotStore, alerts: OverspeedAlert[]): Promise<void> {
  const byDay = new Map<string, string[]>();
  for (const a of alerts) {
    const day = a.date.slice(0, 8);
    byDay.set(day, [...(byDay.get(day) ?? []), `${a.carNumber}-${a.date}`]);
  }
  const client = (hot as { client?: import('ioredis').Redis }).client;
  if (client) {
    const p = client.pipeline();
    for (const [day, members] of byDay) p.sadd(day, ...members).expire(day, OVERSPEED_TTL_SECONDS);
    const res = await p.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
    return;
  }
  for (const [day, members] of byDay) {
    await hot.sadd(day, ...members);
    await hot.expire(day, OVERSPEED_TTL_SECONDS);
  }
}

/**
 * The keys of the store that look like day sets (`yyyyMMdd`), for browsers such as the console. On Redis
 * this is a cursor SCAN (never KEYS); on the embedded store a read of its key index.
 */
export async function dayKeys(hot: HotStore): Promise<string[]> {
  const out: string[] = [];
  const client = (hot as { client?: import('ioredis').Redis }).client;
  if (client) {
    // ioredis prefixes the keys of commands with the URL's `?keyPrefix=` but neither SCAN's pattern nor
    // the keys it returns: add it to the one, take it off the other.
    const prefix = client.options.keyPrefix ?? '';
    const pattern = prefix.replace(/[*?[\]\\]/g, '\\$&') + '[0-9]'.repeat(8);
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) out.push(k.slice(prefix.length));
    } while (cursor !== '0');
  } else {
    const db = (hot as unknown as { db?: { getKeys(): Iterable<unknown> } }).db;
    if (db) for (const k of db.getKeys()) if (typeof k === 'string') out.push(k);
  }
  return [...new Set(out.filter((k) => /^\d{8}$/.test(k)))].sort();
}
