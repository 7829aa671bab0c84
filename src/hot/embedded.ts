/**
 * The embedded hot store, with Redis's semantics for sets and expiry, on LMDB under `<data>/hot`: it
 * survives restarts and another process (`smartcar overspeed`) reads what the stream workers write.
 * Expired keys vanish on read (lazy) and in a sweep every 10 s, as Redis does.
 */
import fs from 'node:fs';
import { open, type RootDatabase } from 'lmdb';
import type { HotStore } from './types.ts';

interface Entry { members: string[]; expireAt: number | null }

export class EmbeddedHotStore implements HotStore {
  private readonly db: RootDatabase<Entry, string>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(path: string, private readonly now: () => number = Date.now) {
    fs.mkdirSync(path, { recursive: true });
    this.db = open<Entry, string>({ path });
    this.sweeper = setInterval(() => void this.sweep(), 10_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.db.get(key);
    return e && (e.expireAt === null || e.expireAt > this.now()) ? e : undefined;
  }

  async sadd(key: string, ...members: string[]): Promise<number> {
    let added = 0;
    await this.db.transaction(() => {
      const e = this.live(key) ?? { members: [], expireAt: null };
      const set = new Set(e.members);
      for (const m of members) if (!set.has(m)) { set.add(m); added++; }
      this.db.put(key, { members: [...set], expireAt: e.expireAt });
    });
    return added;
  }

  async expire(key: string, seconds: number): Promise<void> {
    await this.db.transaction(() => {
      const e = this.live(key);
      if (e) this.db.put(key, { ...e, expireAt: this.now() + seconds * 1000 });
    });
  }

  async smembers(key: string): Promise<string[]> {
    return [...(this.live(key)?.members ?? [])];
  }

  async ttl(key: string): Promise<number> {
    const e = this.live(key);
    if (!e) return -2;
    if (e.expireAt === null) return -1;
    return Math.round((e.expireAt - this.now()) / 1000);
  }

  async del(key: string): Promise<void> {
    await this.db.remove(key);
  }

  async sweep(): Promise<number> {
    const now = this.now();
    const dead = [...this.db.getRange()].filter((x) => x.value.expireAt !== null && x.value.expireAt <= now).map((x) => x.key);
    if (dead.length) await this.db.transaction(() => { for (const k of dead) this.db.remove(k); });
    return dead.length;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.db.close();
  }
}
