/**
 * The channels' config schemas: Flume's property names, coercing the strings of `.properties` files;
 * `.strict()` makes a misspelled key an error naming it. Defaults and limits are stated here only: the
 * factories (index.ts) and the channels' constructors both read them from these schemas.
 */
import { z } from 'zod';
import { bool } from '../props.ts';

const positiveInt = (what: string) => z.coerce.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).positive(`${what} must be positive`);
const nonNegativeInt = (what: string) => z.coerce.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).nonnegative(`${what} must not be negative`);

/** Both channels: a transaction fits in the channel. */
const transactionFits = (c: { capacity: number; transactionCapacity: number }, ctx: z.RefinementCtx) => {
  if (c.transactionCapacity > c.capacity) {
    ctx.addIssue({ code: 'custom', path: ['transactionCapacity'], message: `transactionCapacity ${c.transactionCapacity} is larger than capacity ${c.capacity}; lower it or raise capacity` });
  }
};

export const memoryChannelSchema = z.object({
  capacity: positiveInt('capacity').default(100).describe('Most events held (committed and not yet taken for good).'),
  transactionCapacity: positiveInt('transactionCapacity').default(100).describe('Most events in one put or take; a source\'s or sink\'s batchSize above it is an error that says so. At most capacity.'),
  byteCapacity: positiveInt('byteCapacity').optional().describe('Most body bytes held; unset = no limit (Flume: 80 % of the JVM heap).'),
  byteCapacityBufferPercentage: z.coerce.number({ error: 'byteCapacityBufferPercentage must be a number' }).min(0).max(99).default(20).describe('Share of byteCapacity kept for headers; bodies may use the rest.'),
  'keep-alive': nonNegativeInt('keep-alive').optional().describe('Accepted, ignored: a put never blocks; the source waits for space and retries the same batch.'),
}).strict().superRefine(transactionFits).describe('A bounded in-memory queue with Flume\'s semantics: what it holds is lost when the agent stops or crashes. Use the file channel for anything that must not be lost.');

export type MemoryChannelConfig = z.infer<typeof memoryChannelSchema>;

/** What the file channel's own code needs besides its directories: its limits, with their defaults. */
const fileChannelLimitsShape = {
  capacity: positiveInt('capacity').default(1_000_000).describe('Most events held (committed and not yet taken for good).'),
  transactionCapacity: positiveInt('transactionCapacity').default(10_000).describe('Most events in one put or take; a source\'s or sink\'s batchSize above it is an error that says so. At most capacity.'),
  maxFileSize: positiveInt('maxFileSize').min(1024, 'maxFileSize must be at least 1024 bytes').default(2_146_435_071).describe('Bytes after which the log continues in a new file (at least 1024). A file is deleted once a checkpoint shows it holds no live event.'),
  checkpointInterval: nonNegativeInt('checkpointInterval').default(30_000).describe('Milliseconds between checkpoints; 0 = only on stop. A checkpoint bounds what a restart replays and lets old log files go.'),
  minimumRequiredSpace: nonNegativeInt('minimumRequiredSpace').default(524_288_000).describe('Free disk bytes below which puts are refused (the source waits and retries).'),
  checkpointOnClose: bool(true).describe('Write a checkpoint on stop, so the next start replays nothing.'),
};

/** The file channel's limits alone (FileChannel applies them when constructed directly, e.g. by tests). */
export const fileChannelLimits = z.object(fileChannelLimitsShape).superRefine(transactionFits);

export const fileChannelSchema = z.object({
  checkpointDir: z.string().min(1).optional().describe('Checkpoint directory, relative to the data directory; default <data>/state/collect/<agent>/<channel>/checkpoint.'),
  dataDirs: z.string().min(1).optional().describe('Log directory, relative to the data directory; default <data>/state/collect/<agent>/<channel>/data. Several comma-separated directories are accepted, only the first is used (with a warning).'),
  ...fileChannelLimitsShape,
  'keep-alive': nonNegativeInt('keep-alive').optional().describe('Accepted, ignored: a put never blocks; the source waits for space and retries the same batch.'),
  useDualCheckpoints: bool().describe('Accepted, ignored: the checkpoint is replaced atomically (rename) and CRC-checked, so a crash never leaves it half-written.'),
  backupCheckpointDir: z.string().optional().describe('Accepted, ignored (see useDualCheckpoints).'),
}).strict().superRefine(transactionFits).describe('Durable: a write-ahead log (fdatasync per commit, commits arriving together share one) plus periodic checkpoints. Committed events and markers survive kill -9 and power loss; events are also kept in memory, bounded by capacity.');

export type FileChannelConfig = z.infer<typeof fileChannelSchema>;

/** `opts` read through `schema` (defaults applied), or an error naming the channel and each bad value. */
export function checked<S extends z.ZodType>(channel: string, schema: S, opts: unknown): z.output<S> {
  const r = schema.safeParse(opts);
  if (!r.success) throw new Error(`channel ${channel}: ${r.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}`);
  return r.data;
}
