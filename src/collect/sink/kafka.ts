/**
 * The Kafka sink (Flume's KafkaSink): produces each event body as one message through the project's bus,
 * committing the take only after the broker acknowledged the batch (at-least-once; a failed send rolls
 * back and the runner retries).
 *
 * Key: the `key` header (Flume's rule), or with our `keyField = N` the N-th (0-based) comma-separated
 * field of the body, e.g. 1 = the car number of a driving line, so one car's records stay in order on one
 * partition. Topic: `kafka.topic`, overridden per event by the `topicHeader` header when
 * `allowTopicOverride`; an invalid topic name from a header is a dead letter, not a stuck batch.
 */
import { z } from 'zod';
import { createBus, type Bus, type BusMessage, type BusProducer } from '../../bus/index.ts';
import { isValidTopicName } from '../../kafka/index.ts';
import type { ComponentContext, SinkFactory } from '../registry.ts';
import type { Channel, CollectEvent, Sink } from '../types.ts';
import { eventsOf } from '../batch.ts';
import { bool } from '../props.ts';
import { boundSinkMetrics, takeAndDeliver, type SinkMetrics } from './metrics.ts';

const acks = z.union([z.literal('all'), z.coerce.number().int().refine((n) => n === 0 || n === 1 || n === -1, { message: 'acks must be 0, 1, -1 or all' })]);

export const kafkaSinkSchema = z.object({
  'kafka.topic': z.string().min(1).optional().describe('Topic; unset = default-flume-topic (as Flume).'),
  topic: z.string().min(1).optional().describe('Flume 1.6\'s name for kafka.topic (kafka.topic wins when both are set).'),
  'kafka.bootstrap.servers': z.string().min(1).optional().describe('Comma-separated host:port list; unset = the platform\'s bus (the embedded broker, or --kafka / SMARTCAR_KAFKA).'),
  brokerList: z.string().min(1).optional().describe('Flume 1.6\'s name for kafka.bootstrap.servers.'),
  'kafka.producer.acks': acks.optional().describe('0, 1, -1 or all; unset = 1.'),
  requiredAcks: acks.optional().describe('Flume 1.6\'s name for kafka.producer.acks.'),
  flumeBatchSize: z.coerce.number().int().positive().optional().describe('Events per take transaction and send; unset = 100.'),
  batchSize: z.coerce.number().int().positive().optional().describe('Flume 1.6\'s name for flumeBatchSize.'),
  'kafka.producer.compression.type': z.enum(['none', 'gzip']).default('none').describe('Message compression.'),
  useFlumeEventFormat: bool(false).refine((v) => !v, { message: 'useFlumeEventFormat = true (Avro-wrapped events) is not supported; messages carry the plain event body' }).describe('false only: a message is the plain body (Avro-wrapped events with headers are refused).'),
  defaultPartitionId: z.coerce.number().int().min(0).optional().describe('Accepted, ignored with a warning: the partition comes from the message key (murmur2, as the Java client).'),
  partitionIdHeader: z.string().optional().describe('Accepted, ignored with a warning (see defaultPartitionId).'),
  allowTopicOverride: bool(true).describe('Let the topicHeader header choose an event\'s topic; an invalid topic name there sends the event to the dead letters.'),
  topicHeader: z.string().default('topic').describe('Header naming the topic (allowTopicOverride).'),
  keyField: z.coerce.number().int().min(0).optional().describe('Our addition: the message key is the N-th (0-based) comma-separated field of the body, e.g. 1 = the car number of a driving line, so one car\'s records stay in order on one partition. Unset (or a line with fewer fields): the key header, as in Flume, or no key.'),
  // Accepted from Flume agent files; the bus client tunes these itself.
  'kafka.producer.linger.ms': z.coerce.number().optional().describe('Accepted, ignored: the bus client batches by itself.'),
  'kafka.producer.batch.size': z.coerce.number().optional().describe('Accepted, ignored: the bus client batches by itself.'),
  'kafka.producer.retries': z.coerce.number().optional().describe('Accepted, ignored: a failed send rolls the take back and the agent retries it.'),
}).strict().describe('Produces each event body as one message to the bus (the embedded broker unless told otherwise). The take is committed only after the broker acknowledged the batch: at-least-once, so a crash between the two sends the batch again.');

export type KafkaSinkConfig = z.output<typeof kafkaSinkSchema>;

/** The `n`-th comma-separated field of a body, or undefined when the line has fewer fields. */
export function bodyField(body: Buffer, n: number): Buffer | undefined {
  let start = 0;
  for (let i = 0; i < n; i++) {
    const c = body.indexOf(0x2c, start);
    if (c < 0) return undefined;
    start = c + 1;
  }
  const end = body.indexOf(0x2c, start);
  return body.subarray(start, end < 0 ? body.length : end);
}

export class KafkaSink implements Sink {
  readonly name: string;
  readonly topic: string;
  readonly brokers: string[];
  readonly acks: 0 | 1 | -1;
  readonly batchSize: number;
  private readonly m: SinkMetrics;
  private bus: Bus | undefined;
  private producer: Promise<BusProducer> | undefined;

  constructor(private readonly cfg: KafkaSinkConfig, private readonly channel: Channel, private readonly ctx: ComponentContext) {
    this.name = ctx.name;
    this.topic = cfg['kafka.topic'] ?? cfg.topic ?? 'default-flume-topic';
    const servers = cfg['kafka.bootstrap.servers'] ?? cfg.brokerList;
    this.brokers = servers ? servers.split(',').map((s) => s.trim()).filter(Boolean) : ctx.brokers;
    if (!this.brokers.length) throw new Error(`kafka sink ${this.name} has no brokers: set kafka.bootstrap.servers or start the agent with a bus`);
    const a = cfg['kafka.producer.acks'] ?? cfg.requiredAcks ?? 1;
    this.acks = a === 'all' ? -1 : (a as 0 | 1 | -1);
    this.batchSize = cfg.flumeBatchSize ?? cfg.batchSize ?? 100;
    if (!isValidTopicName(this.topic)) throw new Error(`kafka sink ${this.name}: '${this.topic}' is not a valid topic name (letters, digits, '.', '_', '-')`);
    if (cfg.defaultPartitionId !== undefined || cfg.partitionIdHeader !== undefined) {
      ctx.log.warn({ sink: this.name }, 'defaultPartitionId / partitionIdHeader are ignored: partitions are chosen from the message key (murmur2, as the Java client)');
    }
    this.m = boundSinkMetrics(ctx.agent, ctx.name);
  }

  async start(): Promise<void> {
    // Connect in the background (the client retries for a while): a broker that is not up yet must not
    // hold the agent's start; process() waits for this connection or makes a new one.
    this.connect().catch((err: Error) => this.ctx.log.warn({ sink: this.name, brokers: this.brokers, err: err.message }, 'kafka sink cannot reach the brokers yet; will retry'));
  }

  private connect(): Promise<BusProducer> {
    if (!this.producer) {
      this.bus ??= createBus({ brokers: this.brokers, clientId: `${this.ctx.agent}-${this.name}` });
      const p = this.bus.producer({ acks: this.acks, compression: this.cfg['kafka.producer.compression.type'] });
      this.producer = p;
      p.catch(() => {
        if (this.producer === p) this.producer = undefined;
      });
    }
    return this.producer;
  }

  private key(e: CollectEvent): string | Buffer | null {
    if (this.cfg.keyField !== undefined) {
      const f = bodyField(e.body, this.cfg.keyField);
      if (f) return f;
    }
    return e.headers.key ?? null;
  }

  process(): Promise<number> {
    return takeAndDeliver(this.channel, this.batchSize, this.m, async (batches) => {
      const events = eventsOf(batches);
      const byTopic = new Map<string, BusMessage[]>();
      const bad: CollectEvent[] = [];
      let bytes = 0;
      for (const e of events) {
        let topic = this.topic;
        if (this.cfg.allowTopicOverride) {
          const h = e.headers[this.cfg.topicHeader];
          if (h !== undefined) {
            if (!isValidTopicName(h)) {
              bad.push(e);
              continue;
            }
            topic = h;
          }
        }
        let l = byTopic.get(topic);
        if (!l) byTopic.set(topic, (l = []));
        l.push({ key: this.key(e), value: e.body });
        bytes += e.body.length;
      }
      let producer: BusProducer | undefined;
      try {
        producer = await this.connect();
        for (const [topic, msgs] of byTopic) await producer.send(topic, msgs);
      } catch (err) {
        // Start from a fresh connection next time rather than trusting a client that just failed.
        if (producer) {
          this.producer = undefined;
          await producer.close().catch(() => undefined);
        }
        throw new Error(`kafka sink ${this.name} could not send to ${this.brokers.join(',')}: ${(err as Error).message}; the events stay in the channel and are retried`);
      }
      if (bad.length) {
        this.ctx.deadLetters.write(this.name, `the '${this.cfg.topicHeader}' header is not a valid topic name`, bad);
        this.m.deadLetters.inc(bad.length);
      }
      return { bytes, delivered: events.length - bad.length };
    });
  }

  async stop(): Promise<void> {
    const bus = this.bus;
    const producer = this.producer;
    this.bus = undefined;
    this.producer = undefined;
    await producer?.catch(() => undefined); // let a connection under way settle before closing the client
    await bus?.close();
  }
}

export const kafkaSinkFactory: SinkFactory<KafkaSinkConfig> = {
  kind: 'sink',
  type: 'kafka',
  aliases: ['org.apache.flume.sink.kafka.KafkaSink'],
  schema: kafkaSinkSchema,
  create: (config, channel, ctx) => new KafkaSink(config, channel, ctx),
};
