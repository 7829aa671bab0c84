/**
 * A Redis namespace of this test process: the URL of database `db` on the CI Redis with a key prefix
 * unique to the process (ioredis's `?keyPrefix=`, which the hot store, the CLI and `new Redis(url)` all
 * honour). Suites of two checkouts running at once on one Redis then never share a day key.
 */
import { Redis } from 'ioredis';

export function testRedisUrl(db: number): string {
  return `redis://127.0.0.1:6379/${db}?keyPrefix=smartcar-test-${process.pid}:`;
}

/** Deletes every key of the namespace (call it in afterAll): the day sets would otherwise live 7 days. */
export async function dropTestKeys(url: string): Promise<void> {
  const r = new Redis(url.replace(/\?.*$/, ''));
  try {
    const prefix = new URL(url).searchParams.get('keyPrefix');
    if (!prefix) return;
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    await r.quit();
  }
}
