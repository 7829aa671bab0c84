/** The logger sink (Flume's LoggerSink): logs each event at info, the body cut to `maxBytesToLog` bytes. */
import { z } from 'zod';
import type { ComponentContext, SinkFactory } from '../registry.ts';
import type { Channel, Sink } from '../types.ts';
import { eventsOf } from '../batch.ts';
import { boundSinkMetrics, takeAndDeliver, type SinkMetrics } from './metrics.ts';

export const loggerSinkSchema = z.object({
  maxBytesToLog: z.coerce.number().int().min(0).default(16).describe('Bytes of the body logged; the rest is cut (the log shows the full length).'),
  batchSize: z.coerce.number().int().positive().default(100).describe('Events per take transaction.'),
}).strict().describe('Logs every event (headers and the head of the body) at info level, for debugging.');

export type LoggerSinkConfig = z.output<typeof loggerSinkSchema>;

export class LoggerSink implements Sink {
  readonly name: string;
  private readonly m: SinkMetrics;

  constructor(private readonly cfg: LoggerSinkConfig, private readonly channel: Channel, private readonly ctx: ComponentContext) {
    this.name = ctx.name;
    this.m = boundSinkMetrics(ctx.agent, ctx.name);
  }

  async start(): Promise<void> {}

  process(): Promise<number> {
    return takeAndDeliver(this.channel, this.cfg.batchSize, this.m, (batches) => {
      const events = eventsOf(batches);
      let bytes = 0;
      for (const e of events) {
        const cut = e.body.length > this.cfg.maxBytesToLog;
        this.ctx.log.info({ sink: this.name, headers: e.headers, body: e.body.subarray(0, this.cfg.maxBytesToLog).toString('utf8') + (cut ? '…' : ''), bodyBytes: e.body.length }, 'event');
        bytes += e.body.length;
      }
      return { bytes, delivered: events.length };
    });
  }

  async stop(): Promise<void> {}
}

export const loggerSinkFactory: SinkFactory<LoggerSinkConfig> = {
  kind: 'sink',
  type: 'logger',
  aliases: ['org.apache.flume.sink.LoggerSink'],
  schema: loggerSinkSchema,
  create: (config, channel, ctx) => new LoggerSink(config, channel, ctx),
};
