/**
 * Component registry: maps a config `type` (ours or Flume's class name) to a factory, as Vector maps
 * `type = "file"` to a source. Each factory owns a zod schema whose keys are **Flume's property names**
 * as they appear after `<agent>.<kind>.<name>.` in an agent file (`hdfs.path`, `spoolDir`, `capacity`…).
 * Values arrive as strings from `.properties` files, so schemas coerce (`z.coerce.number()`), and are
 * `.strict()` so a misspelled key is an error naming the key (the agent loader adds file:line).
 *
 * Keys handled by the agent itself are never passed to a factory: `type`, `channel`, `channels`,
 * `selector.*`, `interceptors`, `interceptors.*` (sources), and for sinks `channel`.
 */
import type { z } from 'zod';
import type { Logger } from '../core/index.ts';
import type { Channel, DeadLetters, Interceptor, Sink, Source } from './types.ts';

export interface ComponentContext {
  /** Agent name (`-n`). */
  agent: string;
  /** This component's name in the agent file. */
  name: string;
  /** The data directory: relative paths in agent files resolve against it. */
  dataDir: string;
  /** Lake root (`<data>/lake`): the HDFS sink writes under it. */
  lakeRoot: string;
  /** Where components keep private state (`<data>/state/collect/<agent>`). */
  stateDir: string;
  /** Default bootstrap servers of the bus (the embedded broker's, or --kafka). */
  brokers: string[];
  deadLetters: DeadLetters;
  log: Logger;
}

export interface ChannelFactory<C = Record<string, unknown>> extends DynamicKeys {
  kind: 'channel';
  type: string;
  /** Other accepted `type` values, e.g. Flume's `org.apache.flume.channel.MemoryChannel`. */
  aliases: string[];
  schema: ConfigSchema<C>;
  create(config: C, ctx: ComponentContext): Channel;
}

export interface SinkFactory<C = Record<string, unknown>> extends DynamicKeys {
  kind: 'sink';
  type: string;
  aliases: string[];
  schema: ConfigSchema<C>;
  create(config: C, channel: Channel, ctx: ComponentContext): Sink;
}

export interface SourceFactory<C = Record<string, unknown>> extends DynamicKeys {
  kind: 'source';
  type: string;
  aliases: string[];
  schema: ConfigSchema<C>;
  /**
   * `deliver` runs the interceptors and puts the batch into the source's channel(s) in a transaction
   * committed with `marker` (the position after this batch). It resolves once committed, and rejects
   * (after rolling back) when the channel is full or failing — the source then retries the same batch.
   */
  create(config: C, deliver: (events: import('./types.ts').CollectEvent[] | import('./batch.ts').EventBatch, marker: string) => Promise<void>, ctx: ComponentContext & {
    /** The last committed marker of this source (its resume position), if any. */
    resume: string | undefined;
  }): Source;
}

export interface InterceptorFactory<C = Record<string, unknown>> extends DynamicKeys {
  kind: 'interceptor';
  type: string;
  aliases: string[];
  schema: ConfigSchema<C>;
  create(config: C, ctx: ComponentContext): Interceptor;
}

/**
 * A component's config schema: what it reads (the strings of a `.properties` file, or JSON values) may
 * differ from what it gives (typed values, defaults applied), so only the output type is fixed.
 */
export type ConfigSchema<C> = z.ZodType<C, unknown>;

/** Property names a factory accepts beyond its schema's keys (e.g. `serializers.s1.name`), checked by the factory. */
export interface DynamicKeys {
  dynamicKeys?: RegExp;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the registry stores factories of every config type */
export type AnyFactory = DynamicKeys & (ChannelFactory<any> | SinkFactory<any> | SourceFactory<any> | InterceptorFactory<any>);
/* eslint-enable @typescript-eslint/no-explicit-any */

const factories = new Map<string, AnyFactory>();

/** Registers a component type (and its aliases). Custom interceptors and sinks register the same way. */
export function registerComponent<C>(f: DynamicKeys & (ChannelFactory<C> | SinkFactory<C> | SourceFactory<C> | InterceptorFactory<C>)): void {
  for (const t of [f.type, ...f.aliases]) factories.set(`${f.kind}:${t}`, f as AnyFactory);
}

export function findComponent<K extends AnyFactory['kind']>(kind: K, type: string): Extract<AnyFactory, { kind: K }> | undefined {
  return factories.get(`${kind}:${type}`) as Extract<AnyFactory, { kind: K }> | undefined;
}

export function componentTypes(kind: AnyFactory['kind']): string[] {
  return [...new Set([...factories.values()].filter((f) => f.kind === kind).map((f) => f.type))].sort();
}
