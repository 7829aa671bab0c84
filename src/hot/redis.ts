/** The hot store on Redis (ioredis). */
import { Redis } from 'ioredis';
import type { HotStore } from './types.ts';
import { createLogger } from '../core/log.ts';

const log = createLogger('hot');

export class RedisHotStore implements HotStore {
  readonly client: Redis;
  constructor(url: string) {
    this.client = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false, enableOfflineQueue: true });
    // Connection errors surface as failed commands (after 3 retries); log them, at most every 10 s.
    let lastLogged = 0;
    this.client.on('error', (err: Error) => {
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      log.warn({ err: err.message, url: url.replace(/\/\/[^@/]*@/, '//***@') }, 'Redis connection error; retrying');
    });
  }
  sadd(key: string, ...members: string[]): Promise<number> {
    return this.client.sadd(key, ...members);
  }
  async expire(key: string, seconds: number): Promise<void> {
    await this.client.expire(key, seconds);
  }
  smembers(key: string): Promise<string[]> {
    return this.client.smembers(key);
  }
  ttl(key: string): Promise<number> {
    return this.client.ttl(key);
  }
  async del(key: string): Promise<void> {
    await this.client.del(key);
  }
  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
