/** The hot store on Redis (ioredis). */
import { Redis } from 'ioredis';
import type { HotStore } from './types.ts';
import { createLogger, UserError } from '../core/index.ts';

const log = createLogger('hot');

export class RedisHotStore implements HotStore {
  readonly client: Redis;
  private probing = true;
  private lastError?: string;
  constructor(private readonly url: string) {
    this.client = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false, enableOfflineQueue: true });
    // Connection errors surface as failed commands (after 3 retries); log them, at most every 10 s.
    let lastLogged = 0;
    this.client.on('error', (err: Error) => {
      this.lastError = err.message;
      // Until the first PING answers, reachable() reports the failure in one line.
      if (this.probing || Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      log.warn({ err: err.message, url: url.replace(/\/\/[^@/]*@/, '//***@') }, 'Redis connection error; retrying');
    });
  }
  /**
   * Resolves once Redis answers a PING (ioredis retries the connection 3 times, a few seconds in all);
   * otherwise closes the client and throws one line naming the URL, its password hidden.
   */
  async reachable(): Promise<void> {
    try {
      await this.client.ping();
      this.probing = false;
    } catch (err) {
      this.client.disconnect();
      const safe = this.url.replace(/\/\/([^:/@]*)(:[^@]*)?@/, (_m, u: string, pw?: string) => `//${u}${pw ? ':***' : ''}@`);
      throw new UserError(`cannot reach Redis at ${safe} (${this.lastError ?? (err as Error).message.split('\n')[0]}); check that Redis runs there and the URL of --redis (or leave --redis out for the embedded hot store)`);
    }
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
