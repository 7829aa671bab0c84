/**
 * The collection agent's contracts (the Flume role). One rule carries the whole delivery
 * guarantee: **events move only through channel transactions.**
 *
 *   source ──put(batch)+commit──► channel ──take(n)+commit──► sink
 *
 * - A source reads a batch, runs the interceptors, puts the batch in one transaction and commits; only
 *   then does it advance (spool file position saved, tail offset saved). A failed commit (channel full,
 *   disk error) is rolled back and retried: the source re-reads, nothing is skipped.
 * - A sink takes up to `batchSize` events in one transaction, delivers them, and commits only after the
 *   destination accepted them; on failure it rolls back and the events are taken again (at-least-once;
 *   destinations make this exactly-once where they can, e.g. the lake sink's roll/rename protocol).
 *
 * Everything is batch-shaped (Flume's `Interceptor.intercept(List<Event>)`, `Channel` transactions of
 * many events). On the hot path a batch is an `EventBatch` (batch.ts): one buffer and offsets, no object
 * per event; `CollectEvent[]` is the simple form for custom components, converted at the boundary.
 */
import type { EventBatch } from './batch.ts';

/** One event: headers and a body (one line, without its newline). */
export interface CollectEvent {
  /**
   * Headers. Interceptors that set the same value on every event of a batch may share one object
   * between those events (the file channel writes a shared object once per batch); so never mutate
   * `headers` in place — replace the object.
   */
  headers: Record<string, string>;
  body: Buffer;
}

export class ChannelFullError extends Error {
  constructor(channel: string, capacity: number) {
    super(`channel ${channel} is full (capacity ${capacity}); the source will retry`);
    this.name = 'ChannelFullError';
  }
}

/**
 * A progress marker committed atomically with a transaction: a source's read position (committed with its
 * put) or a sink's delivered state (committed with its take, e.g. the lake sink's open files and their
 * committed lengths). After a crash, `Channel.marker(owner)` returns the value of the last committed
 * transaction of that owner — so "events in the channel" and "where the source/sink stands" can never
 * disagree, which is what makes restarts free of loss and duplicates. The file channel writes the marker
 * in the same write-ahead-log record as the transaction; the memory channel keeps it in memory.
 */
export interface Marker {
  /** The component name (unique within the agent). */
  owner: string;
  /** Opaque to the channel (components store JSON). */
  value: string;
}

export interface CommitOptions {
  /**
   * Take commits only. Resolve once the commit is written — it survives a crash of the process — and let
   * the next fsync of the channel (another commit's, or the checkpoint's) make it survive power loss too;
   * until then the taken events stay hidden from other takers. Losing such a commit to a power cut only
   * means its events are delivered again, so it is for sinks that make redelivery harmless: the lake sink
   * cuts its files back to its last durable marker, which keeps the lake exactly-once. Channels without
   * a log treat it as a plain commit.
   */
  lazy?: boolean;
}

/**
 * A channel transaction. Either put or take (not both) in one transaction, as in Flume.
 * `commit` makes puts visible to takers (and durable, for the file channel) or removes taken events for
 * good; `rollback` discards puts, or returns taken events to the head of the channel in order.
 */
export interface ChannelTransaction {
  /** Stages events; throws ChannelFullError when they would not fit (nothing staged then). */
  put(events: CollectEvent[] | EventBatch): void;
  /** Takes up to `max` events that are committed and not taken by another open transaction. */
  take(max: number): CollectEvent[];
  /** As `take`, as batches (views of the stored ones, in order): no object per event. */
  takeBatches(max: number): EventBatch[];
  /** Commits; with a marker, the marker is committed in the same atomic step (see Marker). */
  commit(marker?: Marker, opts?: CommitOptions): Promise<void>;
  rollback(): Promise<void>;
}

export interface Channel {
  readonly name: string;
  readonly capacity: number;
  start(): Promise<void>;
  /** Stops accepting transactions; the file channel writes a checkpoint. Idempotent. */
  stop(): Promise<void>;
  transaction(): ChannelTransaction;
  /** The value of the owner's last committed marker (survives restarts for durable channels). */
  marker(owner: string): string | undefined;
  /** Committed events not yet taken for good (the "channel fill"). */
  size(): number;
  /** Resolves when the channel holds events to take, or after `timeoutMs`. */
  waitForEvents(timeoutMs: number): Promise<void>;
  /** Resolves when at least `n` more events fit, or after `timeoutMs`. */
  waitForSpace(n: number, timeoutMs: number): Promise<void>;
}

/**
 * Flume's Interceptor: sees every batch a source reads, before the channel. May drop events. It has one
 * of two forms: `intercept` on events, the simple contract for custom interceptors (the agent converts
 * the batch to events and back), or `interceptBatch` on the EventBatch itself (no object per event),
 * which the built-ins use.
 */
export type Interceptor = (EventInterceptor | BatchInterceptor) & { close?(): void };
export interface EventInterceptor {
  intercept(events: CollectEvent[]): CollectEvent[];
  interceptBatch?: undefined;
}
export interface BatchInterceptor {
  interceptBatch(batch: EventBatch): EventBatch;
  intercept?: undefined;
}

export interface Sink {
  readonly name: string;
  start(): Promise<void>;
  /**
   * One delivery step: take ≤ batchSize events in a transaction, deliver, commit (or roll back and throw).
   * Returns the number of events delivered; 0 means the channel was empty (the runner then waits).
   */
  process(): Promise<number>;
  /** Closes what the sink holds open (the lake sink rolls its open files). Idempotent. */
  stop(): Promise<void>;
}

export interface Source {
  readonly name: string;
  /** Runs until `stop()`; a failed batch is retried, never skipped. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Where a component may write what it cannot process (one JSON line per event, with the reason). */
export interface DeadLetters {
  write(component: string, reason: string, events: CollectEvent[]): void;
}
