/**
 * Alerts: the overspeed sets of the hot store (`<yyyyMMdd>` → `<car>-<yyyyMMddHHmmss>`, TTL one
 * week) and a live feed of new members pushed as server-sent events.
 *
 *   GET /api/alerts/sets?car=A0001&limit=500   each day's set: TTL, size, members (filtered by car)
 *   GET /api/alerts/stream                     text/event-stream; `event: alert` `data: {member, car, at, day, seen}`
 *
 * The feed polls the newest two day sets every 50 ms (one watcher, however many pages listen) and sends
 * the members it had not seen; a comment line every 15 s keeps proxies from closing the stream.
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Router } from '../../core/index.ts';
import { dayKeys } from '../../hot/index.ts';
import type { ConsoleContext } from '../context.ts';

export const alertSchema = z.object({ member: z.string(), car: z.string(), at: z.string(), day: z.string(), seen: z.number() });
export type AlertEvent = z.infer<typeof alertSchema>;

export function parseMember(day: string, member: string, seen = Date.now()): AlertEvent {
  const i = member.lastIndexOf('-');
  return { member, car: i > 0 ? member.slice(0, i) : member, at: i > 0 ? member.slice(i + 1) : '', day, seen };
}

export class AlertFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly known = new Map<string, Set<string>>();
  private readonly tail = new Map<string, { length: number; first: string | undefined }>();
  private keys: string[] = [];
  private keysAt = 0;
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private busy = false;
  private primed = false;

  constructor(private readonly ctx: ConsoleContext, private readonly pollMs = 50) {}

  add(res: ServerResponse): void {
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (!this.timer) this.start();
  }

  private start(): void {
    this.primed = false;
    this.known.clear();
    this.tail.clear();
    this.keysAt = 0;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.write(`: keep-alive ${Date.now()}\n\n`);
    }, 15_000);
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.heartbeat);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const hot = await this.ctx.hotStore();
      if (Date.now() - this.keysAt > 1000) {
        this.keys = (await dayKeys(hot)).slice(-2);
        this.keysAt = Date.now();
      }
      const fresh: AlertEvent[] = [];
      for (const day of this.keys) {
        const members = await hot.smembers(day);
        let seen = this.known.get(day);
        if (!seen) {
          seen = new Set();
          this.known.set(day, seen);
          // A day that appears after the feed started is new; one there at the start is history.
          if (!this.primed) {
            for (const m of members) seen.add(m);
            this.tail.set(day, { length: members.length, first: members[0] });
            continue;
          }
        }
        // The embedded store keeps members in insertion order: when the set only grew, the new members
        // are its tail and nothing else needs comparing. Redis's order is arbitrary: compare them all.
        const t = this.tail.get(day);
        const grownOnly = !('client' in hot) && t && t.first === members[0] && members.length >= t.length;
        const now = Date.now();
        for (let i = grownOnly ? t.length : 0; i < members.length; i++) {
          const m = members[i];
          if (seen.has(m)) continue;
          seen.add(m);
          fresh.push(parseMember(day, m, now));
        }
        this.tail.set(day, { length: members.length, first: members[0] });
      }
      this.primed = true;
      if (fresh.length) {
        const text = fresh.map((a) => `event: alert\ndata: ${JSON.stringify(a)}\n\n`).join('');
        for (const c of this.clients) c.write(text);
      }
    } catch (err) {
      const text = `event: problem\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`;
      for (const c of this.clients) c.write(text);
    } finally {
      this.busy = false;
    }
  }
}

export function alertRoutes(router: Router, ctx: ConsoleContext, feed: AlertFeed): void {
  router.route({
    method: 'GET', path: '/api/alerts/sets', summary: "each day's overspeed set with its TTL, filtered by car",
    query: z.object({
      car: z.string().regex(/^[A-Za-z0-9]{0,8}$/, 'a car number or its start, e.g. A0001').optional(),
      limit: z.coerce.number().int().min(1).max(100_000).default(500),
    }),
    response: z.array(z.object({ day: z.string(), ttl: z.number(), size: z.number(), matching: z.number(), members: z.array(alertSchema) })),
    handler: async ({ query }) => {
      const hot = await ctx.hotStore();
      const days = (await dayKeys(hot)).reverse();
      const out = [];
      for (const day of days) {
        const all = await hot.smembers(day);
        const car = query.car?.toUpperCase();
        const matching = car ? all.filter((m) => m.startsWith(car)) : all;
        matching.sort((a, b) => (a.slice(-14) < b.slice(-14) ? 1 : a.slice(-14) > b.slice(-14) ? -1 : 0));
        out.push({ day, ttl: await hot.ttl(day), size: all.length, matching: matching.length, members: matching.slice(0, query.limit).map((m) => parseMember(day, m, 0)) });
      }
      return out;
    },
  });
  router.route({
    method: 'GET', path: '/api/alerts/stream', summary: 'new overspeed alerts as server-sent events',
    handler: async ({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(`: connected ${Date.now()}\n\n`);
      res.socket?.setNoDelay(true);
      feed.add(res);
      return undefined;
    },
  });
}
