/** The null sink (Flume's NullSink): takes events in batches and discards them (for tests and benchmarks). */
import { z } from 'zod';
import type { ComponentContext, SinkFactory } from '../registry.ts';
import type { Channel, Sink } from '../types.ts';
import { countOf } from '../batch.ts';
import { boundSinkMetrics, takeAndDeliver, type SinkMetrics } from './metrics.ts';

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

  process(): Promise<number> {
    return takeAndDeliver(this.channel, this.cfg.batchSize, this.m, (batches) => {
      let bytes = 0;
      for (const b of batches) bytes += b.bytes();
      return { bytes, delivered: countOf(batches) };
    });
  }

  async stop(): Promise<void> {}
}

export const nullSinkFactory: SinkFactory<NullSinkConfig> = {
  kind: 'sink',
  type: 'null',
  aliases: ['org.apache.flume.sink.NullSink'],
  schema: nullSinkSchema,
  create: (config, channel, ctx) => new NullSink(config, channel, ctx),
};
