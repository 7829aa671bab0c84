/** The null sink (Flume's NullSink): takes events in batches and discards them (for tests and benchmarks). */
import { z } from 'zod';
import type { ComponentContext, SinkFactory } from '../registry.ts';
import type { Channel, Sink } from '../types.ts';
import { boundSinkMetrics, type SinkMetrics } from './metrics.ts';

export const nullSinkSchema = z.object({
  batchSize: z.coerce.number().int().positive().default(100).describe('Events per take transaction.'),
}).strict().describe('Takes events in batches and discards them (tests, benchmarks).');

export type NullSinkConfig = z.output<typeof nullSinkSchema>;

export class NullSink implements Sink {
  readonly name: string;
  private readonly m: SinkMetrics;

  constructor(private readonly cfg: NullSinkConfig, private readonly channel: Channel, ctx: ComponentContext) {
    this.name = ctx.name;
    this.m = boundSinkMetrics(ctx.agent, ctx.name);
  }

  async start(): Promise<void> {}

  async process(): Promise<number> {
    const tx = this.channel.transaction();
    try {
      const events = tx.take(this.cfg.batchSize);
      this.m.taken.inc(events.length);
      await tx.commit();
      if (events.length) {
        let bytes = 0;
        for (const e of events) bytes += e.body.length;
        this.m.delivered.inc(events.length);
        this.m.bytes.inc(bytes);
        this.m.batches.inc();
      }
      return events.length;
    } catch (err) {
      this.m.errors.inc();
      await tx.rollback().catch(() => undefined);
      throw err;
    }
  }

  async stop(): Promise<void> {}
}

export const nullSinkFactory: SinkFactory<NullSinkConfig> = {
  kind: 'sink',
  type: 'null',
  aliases: ['org.apache.flume.sink.NullSink'],
  schema: nullSinkSchema as unknown as z.ZodType<NullSinkConfig>,
  create: (config, channel, ctx) => new NullSink(config, channel, ctx),
};
