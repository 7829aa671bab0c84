/**
 * The collection agent's channels: `memory` and the durable `file` channel, registered under our names
 * and Flume's class names. Importing this module registers them (the agent imports it once).
 *
 * Schemas use Flume's property names and coerce the strings of `.properties` files; `.strict()` makes a
 * misspelled key an error naming it.
 */
import path from 'node:path';
import { z } from 'zod';
import { registerComponent, type ChannelFactory, type ComponentContext } from '../registry.ts';
import { FileChannel } from './file.ts';
import { MemoryChannel } from './memory.ts';

export { MemoryChannel, type MemoryChannelOptions } from './memory.ts';
export { FileChannel, DiskSpaceError, type FileChannelOptions } from './file.ts';
export { TransactionCapacityError, ChannelStateError } from './queue.ts';
export { LogCorruptError } from './wal.ts';

const positiveInt = (what: string) => z.coerce.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).positive(`${what} must be positive`);
const nonNegativeInt = (what: string) => z.coerce.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).nonnegative(`${what} must not be negative`);
/** `true`/`false` as in a .properties file (z.coerce.boolean would read "false" as true). */
const flag = z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true');

export const memoryChannelSchema = z.object({
  capacity: positiveInt('capacity').default(100).describe('Most events held (committed and not yet taken for good).'),
  transactionCapacity: positiveInt('transactionCapacity').default(100).describe('Most events in one put or take; a source\'s or sink\'s batchSize above it is an error that says so. At most capacity.'),
  byteCapacity: positiveInt('byteCapacity').optional().describe('Most body bytes held; unset = no limit (Flume: 80 % of the JVM heap).'),
  byteCapacityBufferPercentage: z.coerce.number({ error: 'byteCapacityBufferPercentage must be a number' }).min(0).max(99).default(20).describe('Share of byteCapacity kept for headers; bodies may use the rest.'),
  'keep-alive': nonNegativeInt('keep-alive').optional().describe('Accepted, ignored: a put never blocks; the source waits for space and retries the same batch.'),
}).strict().describe('A bounded in-memory queue with Flume\'s semantics: what it holds is lost when the agent stops or crashes. Use the file channel for anything that must not be lost.');

export type MemoryChannelConfig = z.infer<typeof memoryChannelSchema>;

export const fileChannelSchema = z.object({
  checkpointDir: z.string().min(1).optional().describe('Checkpoint directory, relative to the data directory; default <data>/state/collect/<agent>/<channel>/checkpoint.'),
  dataDirs: z.string().min(1).optional().describe('Log directory, relative to the data directory; default <data>/state/collect/<agent>/<channel>/data. Several comma-separated directories are accepted, only the first is used (with a warning).'),
  capacity: positiveInt('capacity').default(1_000_000).describe('Most events held (committed and not yet taken for good).'),
  transactionCapacity: positiveInt('transactionCapacity').default(10_000).describe('Most events in one put or take; a source\'s or sink\'s batchSize above it is an error that says so. At most capacity.'),
  maxFileSize: positiveInt('maxFileSize').default(2_146_435_071).describe('Bytes after which the log continues in a new file (at least 1024). A file is deleted once a checkpoint shows it holds no live event.'),
  checkpointInterval: nonNegativeInt('checkpointInterval').default(30_000).describe('Milliseconds between checkpoints; 0 = only on stop. A checkpoint bounds what a restart replays and lets old log files go.'),
  minimumRequiredSpace: nonNegativeInt('minimumRequiredSpace').default(524_288_000).describe('Free disk bytes below which puts are refused (the source waits and retries).'),
  'keep-alive': nonNegativeInt('keep-alive').optional().describe('Accepted, ignored: a put never blocks; the source waits for space and retries the same batch.'),
  useDualCheckpoints: flag.optional().describe('Accepted, ignored: the checkpoint is replaced atomically (rename) and CRC-checked, so a crash never leaves it half-written.'),
  backupCheckpointDir: z.string().optional().describe('Accepted, ignored (see useDualCheckpoints).'),
  checkpointOnClose: flag.optional().describe('Write a checkpoint on stop (unset = true), so the next start replays nothing.'),
}).strict().describe('Durable: a write-ahead log (fdatasync per commit, commits arriving together share one) plus periodic checkpoints. Committed events and markers survive kill -9 and power loss; events are also kept in memory, bounded by capacity.');

export type FileChannelConfig = z.infer<typeof fileChannelSchema>;

export const memoryChannelFactory: ChannelFactory<MemoryChannelConfig> = {
  kind: 'channel',
  type: 'memory',
  aliases: ['org.apache.flume.channel.MemoryChannel'],
  schema: memoryChannelSchema,
  create(config, ctx) {
    return new MemoryChannel(ctx.name, config);
  },
};

/** Resolves the file channel's dirs: relative to the data dir; defaults under the agent's state dir. */
export function fileChannelDirs(config: Pick<FileChannelConfig, 'checkpointDir' | 'dataDirs'>, ctx: Pick<ComponentContext, 'dataDir' | 'stateDir' | 'name'>): { checkpointDir: string; dataDir: string } {
  const base = path.join(ctx.stateDir, ctx.name);
  const resolve = (p: string) => path.resolve(ctx.dataDir, p);
  const firstDataDir = config.dataDirs?.split(',').map((s) => s.trim()).find((s) => s.length > 0);
  return {
    checkpointDir: config.checkpointDir ? resolve(config.checkpointDir) : path.join(base, 'checkpoint'),
    dataDir: firstDataDir ? resolve(firstDataDir) : path.join(base, 'data'),
  };
}

export const fileChannelFactory: ChannelFactory<FileChannelConfig> = {
  kind: 'channel',
  type: 'file',
  aliases: ['org.apache.flume.channel.file.FileChannel'],
  schema: fileChannelSchema,
  create(config, ctx) {
    const dirs = fileChannelDirs(config, ctx);
    const dataDirCount = config.dataDirs?.split(',').filter((s) => s.trim()).length ?? 0;
    if (dataDirCount > 1) ctx.log.warn({ channel: ctx.name }, `channel ${ctx.name}: dataDirs lists ${dataDirCount} dirs; only the first (${dirs.dataDir}) is used`);
    if (config.useDualCheckpoints) ctx.log.info({ channel: ctx.name }, `channel ${ctx.name}: useDualCheckpoints is accepted and ignored (the checkpoint is replaced atomically and CRC-checked)`);
    return new FileChannel(ctx.name, {
      ...dirs,
      capacity: config.capacity,
      transactionCapacity: config.transactionCapacity,
      maxFileSize: config.maxFileSize,
      checkpointInterval: config.checkpointInterval,
      minimumRequiredSpace: config.minimumRequiredSpace,
      checkpointOnClose: config.checkpointOnClose ?? true,
      log: ctx.log,
    });
  },
};

registerComponent(memoryChannelFactory);
registerComponent(fileChannelFactory);
