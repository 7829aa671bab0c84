/**
 * The bus: producing to and consuming from any Kafka-protocol broker (the embedded one or an external
 * cluster), behind the small interface of types.ts. Producing goes through the bus's own Kafka-protocol
 * producer (producer.ts, several times kafkajs's throughput; `producer({ client: 'kafkajs' })` selects
 * kafkajs's); consuming and administration go through kafkajs.
 *
 * Client choice for consuming and administration: kafkajs 2.2. `@platformatic/kafka` declares
 * Node ≥ 22.22 and this project runs on Node 20 (see BENCHMARKS.md); kafkajs is maintained, pure
 * JavaScript, and its default partitioner is the Java client's murmur2 (murmur2.ts), so keys land on the
 * same partitions as with any Kafka client — the native producer uses the same murmur2.
 */
import { Kafka, logLevel, CompressionTypes, type Consumer, type Producer } from 'kafkajs';
import { createLogger } from '../core/index.ts';
import { kafkajsSasl, saslFromEnv } from '../kafka/index.ts';
import { createNativeProducer } from './producer.ts';
import type { Bus, BusConsumer, BusMessage, BusOptions, BusProducer, ConsumedBatch, ConsumerOptions, ProducerOptions } from './types.ts';

export type * from './types.ts';
export { murmur2, murmur2Partition } from './murmur2.ts';
export { ProduceError } from './producer.ts';

const log = createLogger('bus');
// The default partitioner is the Java client's murmur2, which we rely on; no need to warn about it.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

function kafkaLogger() {
  return () => ({ level, log: entry }: { level: number; log: { message: string } & Record<string, unknown> }) => {
    const fields = { kafkajs: entry.message, broker: entry.broker, error: entry.error };
    if (level === logLevel.ERROR) log.error(fields, 'bus client error');
    else if (level === logLevel.WARN) log.warn(fields, 'bus client warning');
  };
}

/**
 * A bus over `opts.brokers`. Credentials: `opts.sasl`, else the platform's (SMARTCAR_BROKER_USER /
 * SMARTCAR_BROKER_PASSWORD, see src/kafka/sasl.ts), else none; producers and consumers both present them.
 */
export function createBus(opts: BusOptions): Bus {
  const sasl = opts.sasl === undefined ? saslFromEnv() : opts.sasl ?? undefined;
  const kafka = new Kafka({ clientId: opts.clientId ?? 'smartcar', brokers: opts.brokers, sasl: kafkajsSasl(sasl), logLevel: logLevel.WARN, logCreator: kafkaLogger(), retry: { retries: 8, initialRetryTime: 200 } });
  const admin = kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const withAdmin = async () => {
    adminConnected ??= admin.connect();
    await adminConnected;
    return admin;
  };
  const open: { disconnect(): Promise<void> }[] = [];

  return {
    async producer(po: ProducerOptions = {}): Promise<BusProducer> {
      if (po.client !== 'kafkajs') {
        const np = await createNativeProducer({ ...po, brokers: opts.brokers, clientId: opts.clientId ?? 'smartcar', sasl });
        open.push({ disconnect: () => np.close() });
        return np;
      }
      const p: Producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
      await p.connect();
      open.push(p);
      const acks = po.acks ?? -1;
      const compression = po.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
      return {
        async send(topic: string, messages: BusMessage[]) {
          if (!messages.length) return;
          await p.send({ topic, acks, compression, messages: messages.map((mm) => ({ key: mm.key ?? null, value: mm.value, headers: mm.headers, timestamp: mm.timestamp ? String(mm.timestamp) : undefined })) });
        },
        close: () => p.disconnect(),
      };
    },

    async consumer(co: ConsumerOptions): Promise<BusConsumer> {
      const c: Consumer = kafka.consumer({
        // 10 s sessions: a member that vanished without LeaveGroup (kafkajs swallows a failed leave) holds a
        // rebalance for at most this long, well inside the client's 30 s request timeout.
        groupId: co.groupId, sessionTimeout: co.sessionTimeoutMs ?? 10_000, heartbeatInterval: Math.min(3000, Math.floor((co.sessionTimeoutMs ?? 10_000) / 5)),
        maxBytesPerPartition: co.maxBytesPerPartition ?? 4 * 1024 * 1024, maxWaitTimeInMs: 200, allowAutoTopicCreation: true,
      });
      await c.connect();
      for (const t of co.topics) await c.subscribe({ topic: t, fromBeginning: co.fromBeginning ?? true });
      let stopped = false;
      return {
        run(handler: (b: ConsumedBatch) => Promise<void>): Promise<void> {
          return new Promise<void>((resolve, reject) => {
            let failed = false;
            c.run({
              autoCommit: false,
              eachBatchAutoResolve: false,
              eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
                if (!isRunning() || isStale() || batch.messages.length === 0) return;
                const records = batch.messages.map((mm) => ({
                  topic: batch.topic, partition: batch.partition, offset: mm.offset,
                  key: mm.key ?? null, value: mm.value ?? Buffer.alloc(0), timestamp: Number(mm.timestamp),
                  headers: Object.fromEntries(Object.entries(mm.headers ?? {}).map(([k, v]) => [k, String(v ?? '')])),
                }));
                try {
                  await handler({ topic: batch.topic, partition: batch.partition, records });
                } catch (err) {
                  failed = true;
                  reject(err);
                  void c.stop();
                  return;
                }
                const last = batch.messages[batch.messages.length - 1].offset;
                resolveOffset(last);
                if (!co.manualCommit) await c.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
                await heartbeat();
              },
            }).catch((err) => { failed = true; reject(err); });
            c.on(c.events.STOP, () => { if (!failed) resolve(); });
            c.on(c.events.CRASH, (e) => { if (!stopped) reject(e.payload.error); });
          });
        },
        async commit(topic, partition, nextOffset, metadata) {
          await c.commitOffsets([{ topic, partition, offset: nextOffset, metadata: metadata ?? null }]);
        },
        async stop() {
          stopped = true;
          await c.stop();
          await c.disconnect();
        },
      };
    },

    async createTopic(topic, partitions) {
      const a = await withAdmin();
      await a.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true }).catch((err: Error) => {
        if (!/already exists/i.test(err.message)) throw err;
      });
    },

    async lag(groupId, topic) {
      const a = await withAdmin();
      const [committed, ends] = await Promise.all([a.fetchOffsets({ groupId, topics: [topic] }), a.fetchTopicOffsets(topic)]);
      const c = committed[0]?.partitions ?? [];
      return ends.map((e) => ({ partition: e.partition, end: e.high, committed: c.find((x) => x.partition === e.partition)?.offset ?? '-1' }));
    },

    async committed(groupId, topic) {
      const a = await withAdmin();
      const [t] = await a.fetchOffsets({ groupId, topics: [topic] });
      return (t?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset, metadata: p.metadata ?? '' }));
    },

    async close() {
      for (const o of open.splice(0)) await o.disconnect().catch(() => {});
      if (adminConnected) await admin.disconnect().catch(() => {});
    },
  };
}
