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
  capacity: positiveInt('capacity').default(100),
  transactionCapacity: positiveInt('transactionCapacity').default(100),
  byteCapacity: positiveInt('byteCapacity').optional(),
  byteCapacityBufferPercentage: z.coerce.number({ error: 'byteCapacityBufferPercentage must be a number' }).min(0).max(99).default(20),
  'keep-alive': nonNegativeInt('keep-alive').optional(),
}).strict();

export type MemoryChannelConfig = z.infer<typeof memoryChannelSchema>;

export const fileChannelSchema = z.object({
  checkpointDir: z.string().min(1).optional(),
  dataDirs: z.string().min(1).optional(),
  capacity: positiveInt('capacity').default(1_000_000),
  transactionCapacity: positiveInt('transactionCapacity').default(10_000),
  maxFileSize: positiveInt('maxFileSize').default(2_146_435_071),
  checkpointInterval: nonNegativeInt('checkpointInterval').default(30_000),
  minimumRequiredSpace: nonNegativeInt('minimumRequiredSpace').default(524_288_000),
  'keep-alive': nonNegativeInt('keep-alive').optional(),
  useDualCheckpoints: flag.optional(),
  backupCheckpointDir: z.string().optional(),
  checkpointOnClose: flag.optional(),
}).strict();

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
