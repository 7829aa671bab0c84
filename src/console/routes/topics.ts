/**
 * Topics (what Kafka UIs show), through kafkajs's admin client against the bus's brokers (the embedded
 * broker or an external cluster):
 *
 *   GET /api/topics                                    topics, partitions with low/high offsets
 *   GET /api/topics/groups                             consumer groups: state, members, lag per partition
 *   GET /api/topics/:topic/messages?partition=0&n=20   the last n messages of a partition
 *
 * The last messages are read by a short-lived consumer of a group of its own (`smartcar-console-peek-…`),
 * which commits nothing; those groups are left out of the group list.
 */
import crypto from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { z } from 'zod';
import { HttpError, type Router } from '../../core/index.ts';
import { kafkajsSasl } from '../../kafka/index.ts';
import type { ConsoleContext } from '../context.ts';

const PEEK = 'smartcar-console-peek-';

export class TopicBrowser {
  private kafka?: Kafka;
  private admin?: Promise<Admin>;
  private brokersKey = '';

  constructor(private readonly ctx: ConsoleContext) {}

  private client(): Kafka {
    const brokers = this.ctx.brokers();
    if (!brokers?.length) throw new HttpError(503, 'the bus address is not known yet (the broker is starting)');
    const key = brokers.join(',');
    if (!this.kafka || key !== this.brokersKey) {
      void this.close();
      this.kafka = new Kafka({ clientId: 'smartcar-console', brokers, sasl: kafkajsSasl(), logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 }, connectionTimeout: 3000, requestTimeout: 10_000 });
      this.brokersKey = key;
      this.admin = undefined;
    }
    return this.kafka;
  }

  async withAdmin(): Promise<Admin> {
    const k = this.client();
    this.admin ??= (async () => {
      const a = k.admin();
      await a.connect();
      return a;
    })();
    try {
      return await this.admin;
    } catch (err) {
      this.admin = undefined;
      throw new HttpError(503, `cannot reach the bus at ${this.brokersKey}: ${(err as Error).message}`);
    }
  }

  async topics() {
    const a = await this.withAdmin();
    const names = (await a.listTopics()).filter((t) => !t.startsWith('__')).sort();
    const out = [];
    for (const topic of names) {
      const offs = await a.fetchTopicOffsets(topic);
      const partitions = offs.map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) })).sort((x, y) => x.partition - y.partition);
      out.push({ topic, partitions, messages: partitions.reduce((s, p) => s + (p.high - p.low), 0) });
    }
    return out;
  }

  async groups() {
    const a = await this.withAdmin();
    const groups = (await a.listGroups()).groups.filter((g) => !g.groupId.startsWith(PEEK));
    const described = groups.length ? (await a.describeGroups(groups.map((g) => g.groupId))).groups : [];
    const out = [];
    for (const g of described) {
      const committed = await a.fetchOffsets({ groupId: g.groupId });
      const partitions = [];
      for (const t of committed) {
        const ends = await a.fetchTopicOffsets(t.topic);
        for (const p of t.partitions) {
          const end = Number(ends.find((e) => e.partition === p.partition)?.high ?? 0);
          const c = Number(p.offset);
          partitions.push({ topic: t.topic, partition: p.partition, committed: c, end, lag: c < 0 ? end : Math.max(0, end - c) });
        }
      }
      partitions.sort((x, y) => x.topic.localeCompare(y.topic) || x.partition - y.partition);
      out.push({ groupId: g.groupId, state: g.state, members: g.members.length, lag: partitions.reduce((s, p) => s + p.lag, 0), partitions });
    }
    return out.sort((x, y) => x.groupId.localeCompare(y.groupId));
  }

  async messages(topic: string, partition: number, n: number, timeoutMs = 15_000) {
    const a = await this.withAdmin();
    const offs = await a.fetchTopicOffsets(topic).catch(() => {
      throw new HttpError(404, `no topic '${topic}'`);
    });
    const p = offs.find((o) => o.partition === partition);
    if (!p) throw new HttpError(400, `query.partition: topic ${topic} has partitions 0..${offs.length - 1}`);
    const high = Number(p.high), low = Number(p.low);
    const from = Math.max(low, high - n);
    if (high <= from) return { topic, partition, from, high, messages: [] };
    const consumer = this.client().consumer({ groupId: PEEK + crypto.randomBytes(6).toString('hex'), maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
    const messages: { offset: number; timestamp: number; key: string | null; value: string }[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: false });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => (messages.length ? resolve() : reject(new HttpError(504, `no messages read from ${topic}/${partition} within ${timeoutMs / 1000} s`))), timeoutMs);
        consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            for (const m of batch.messages) {
              const off = Number(m.offset);
              if (off < from || off >= high) continue;
              messages.push({ offset: off, timestamp: Number(m.timestamp), key: m.key ? m.key.toString('utf8') : null, value: (m.value ?? Buffer.alloc(0)).toString('latin1').slice(0, 4000) });
            }
            if (messages.length >= high - from || Number(batch.lastOffset()) >= high - 1) {
              clearTimeout(timer);
              resolve();
            }
          },
        }).catch(reject);
        // Seek once the group has assigned the partitions (run() must be called first).
        consumer.seek({ topic, partition, offset: String(from) });
      });
    } finally {
      await consumer.disconnect().catch(() => {});
    }
    messages.sort((x, y) => x.offset - y.offset);
    return { topic, partition, from, high, messages: messages.slice(-n) };
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    if (a) await a.then((x) => x.disconnect()).catch(() => {});
  }
}

const partitionSchema = z.object({ partition: z.number(), low: z.number(), high: z.number() });

export function topicRoutes(router: Router, browser: TopicBrowser): void {
  router.route({
    method: 'GET', path: '/api/topics', summary: 'topics with partitions and offsets',
    response: z.array(z.object({ topic: z.string(), partitions: z.array(partitionSchema), messages: z.number() })),
    handler: () => browser.topics(),
  });
  router.route({
    method: 'GET', path: '/api/topics/groups', summary: 'consumer groups with their lag per partition',
    response: z.array(z.object({
      groupId: z.string(), state: z.string(), members: z.number(), lag: z.number(),
      partitions: z.array(z.object({ topic: z.string(), partition: z.number(), committed: z.number(), end: z.number(), lag: z.number() })),
    })),
    handler: () => browser.groups(),
  });
  router.route({
    method: 'GET', path: '/api/topics/:topic/messages', summary: 'the last n messages of a partition',
    query: z.object({ partition: z.coerce.number().int().min(0).default(0), n: z.coerce.number().int().min(1).max(500).default(20) }),
    response: z.object({
      topic: z.string(), partition: z.number(), from: z.number(), high: z.number(),
      messages: z.array(z.object({ offset: z.number(), timestamp: z.number(), key: z.string().nullable(), value: z.string() })),
    }),
    handler: ({ params, query }) => browser.messages(params.topic, query.partition, query.n),
  });
}
