/**
 * The memory channel (`type: memory`, Flume's `org.apache.flume.channel.MemoryChannel`): Flume's
 * semantics, nothing durable. A restart loses what it holds — the original's memory channel did too and the shipped agent files
 * use the file channel; this one is for tests and for flows that accept the loss.
 *
 * Properties (Flume's names, defaults and limits in config.ts): `capacity`, `transactionCapacity`,
 * `byteCapacity` (body bytes; unset = no limit, where Flume defaults to 80 % of the JVM heap),
 * `byteCapacityBufferPercentage` (the share of byteCapacity kept for headers, so bodies may use the rest),
 * `keep-alive` (accepted, ignored: puts never block here, the source waits with `waitForSpace`).
 */
import type { EventBatch } from '../batch.ts';
import { ChannelFullError } from '../types.ts';
import { QueuedChannel, type PersistRequest, type StoredBatch } from './queue.ts';
import { checked, memoryChannelSchema } from './config.ts';

export interface MemoryChannelOptions {
  capacity?: number;
  transactionCapacity?: number;
  byteCapacity?: number;
  byteCapacityBufferPercentage?: number;
}

export class MemoryChannel extends QueuedChannel {
  /** Body bytes allowed (byteCapacity less the header buffer); Infinity when unset. */
  readonly bodyByteLimit: number;
  private bodyBytes = 0;
  private nextSeq = 0;

  constructor(name: string, opts: MemoryChannelOptions = {}) {
    const c = checked(name, memoryChannelSchema, opts);
    super(name, c.capacity, c.transactionCapacity);
    const pct = c.byteCapacityBufferPercentage;
    this.bodyByteLimit = c.byteCapacity === undefined ? Infinity : Math.floor(c.byteCapacity * (100 - pct) / 100);
    this.tracksBytes = this.bodyByteLimit !== Infinity;
  }

  async start(): Promise<void> {
    if (this.state === 'stopped') throw new Error(`channel ${this.name}: cannot restart a stopped memory channel; create a new one`);
    this.state = 'running';
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.releaseWaiters();
  }

  /** Body bytes held (staged puts, queue and open takes). */
  bytesUsed(): number {
    return this.bodyBytes;
  }

  protected override reserveBytes(events: EventBatch): number {
    if (this.bodyByteLimit === Infinity) return 0;
    const b = events.bytes();
    if (this.bodyBytes + b > this.bodyByteLimit) {
      const err = new ChannelFullError(this.name, this.capacity);
      err.message = `channel ${this.name} is full: ${this.bodyBytes} + ${b} body bytes exceed byteCapacity less its `
        + `header buffer (${this.bodyByteLimit} bytes); the source will retry`;
      throw err;
    }
    this.bodyBytes += b;
    return b;
  }

  protected override releaseBytes(bytes: number): void {
    if (this.bodyByteLimit !== Infinity) this.bodyBytes -= bytes;
  }

  protected persist(req: PersistRequest, apply: (batch: StoredBatch | undefined) => void): Promise<void> {
    if (req.kind === 'put') {
      const batch: StoredBatch = { events: req.events, firstSeq: this.nextSeq, fileId: -1, offset: -1 };
      this.nextSeq += req.events.count;
      apply(batch);
    } else apply(undefined);
    return Promise.resolve();
  }
}
