/**
 * The collection agent's channels: `memory` and the durable `file` channel, registered under our names
 * and Flume's class names. Importing this module registers them (the agent imports it once).
 * Their schemas (defaults, limits) are in config.ts.
 */
import path from 'node:path';
import { registerComponent, type ChannelFactory, type ComponentContext } from '../registry.ts';
import { FileChannel } from './file.ts';
import { MemoryChannel } from './memory.ts';
import { fileChannelSchema, memoryChannelSchema, type FileChannelConfig, type MemoryChannelConfig } from './config.ts';

export { MemoryChannel, type MemoryChannelOptions } from './memory.ts';
export { FileChannel, DiskSpaceError, type FileChannelOptions } from './file.ts';
export { TransactionCapacityError, ChannelStateError } from './queue.ts';
export { LogCorruptError } from './wal.ts';
export { fileChannelSchema, memoryChannelSchema, type FileChannelConfig, type MemoryChannelConfig } from './config.ts';

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
    return new FileChannel(ctx.name, { ...config, ...dirs, log: ctx.log });
  },
};

registerComponent(memoryChannelFactory);
registerComponent(fileChannelFactory);
