/**
 * The bus port: the project's one way to produce to and consume from a Kafka-protocol broker
 * (the embedded one or an external cluster — same client code).
 */
import type { SaslCredentials } from '../kafka/index.ts';

export interface BusMessage {
  key?: string | Buffer | null;
  value: string | Buffer;
  headers?: Record<string, string>;
  /** Epoch ms; defaults to now. */
  timestamp?: number;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  /** Offset as a decimal string (int64 on the wire). */
  offset: string;
  key: Buffer | null;
  value: Buffer;
  timestamp: number;
  headers: Record<string, string>;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
}

export interface BusProducer {
  /** Sends messages; keys are partitioned with murmur2 as the Java client does. Resolves when acknowledged. */
  send(topic: string, messages: BusMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface BusConsumer {
  /**
   * Consumes the group's assigned partitions. The handler gets one partition's batch at a time;
   * the batch's offsets are committed only after the handler resolves (at-least-once). A handler
   * that rejects stops the consumer with that error (nothing after the last commit is lost).
   */
  run(handler: (batch: ConsumedBatch) => Promise<void>): Promise<void>;
  /** Stops fetching, waits for the in-flight handler, commits, leaves the group. */
  stop(): Promise<void>;
  /**
   * With `manualCommit`, nothing is committed automatically: the caller commits the next offset to read
   * of a partition when it is safe (e.g. behind records a CEP window still needs). `metadata` is stored
   * with the offset, in the same commit (Kafka's offset metadata), and read back with `committed`.
   */
  commit(topic: string, partition: number, nextOffset: string, metadata?: string): Promise<void>;
}

export interface BusOptions {
  /** `host:port` bootstrap servers. */
  brokers: string[];
  clientId?: string;
  /** SASL credentials; undefined = the platform's from the environment (if any), null = none. */
  sasl?: SaslCredentials | null;
}

export interface ProducerOptions {
  /** 0, 1 (leader) or -1 (all in-sync replicas); default -1. */
  acks?: 0 | 1 | -1;
  compression?: 'none' | 'gzip';
  /** `native` (default): the bus's own Kafka-protocol producer (producer.ts); `kafkajs`: kafkajs's. */
  client?: 'native' | 'kafkajs';
  /** Native producer: retries of a retriable failure (metadata refreshed in between); default 8. */
  retries?: number;
  /** Native producer: first backoff between retries, doubled each time up to 2 s; default 100 ms. */
  retryBackoffMs?: number;
  /** Native producer: how long a request may wait for its response; default 30 s. */
  requestTimeoutMs?: number;
  /** Native producer: how long a TCP connect may take; default 5 s. */
  connectTimeoutMs?: number;
  /**
   * Native producer: a partition's records beyond this many bytes in one send go to further batches
   * (Kafka refuses batches over its `message.max.bytes`); default 1,000,000.
   */
  maxBatchBytes?: number;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts; default true (earliest). */
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /** Do not commit after each batch; call `commit` yourself. */
  manualCommit?: boolean;
}

export interface Bus {
  producer(opts?: ProducerOptions): Promise<BusProducer>;
  consumer(opts: ConsumerOptions): Promise<BusConsumer>;
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Committed offset and end offset per partition of a group on a topic (for lag). */
  lag(groupId: string, topic: string): Promise<{ partition: number; committed: string; end: string }[]>;
  /** A group's committed offset and its metadata per partition of a topic (`-1` and '' where none). */
  committed(groupId: string, topic: string): Promise<{ partition: number; offset: string; metadata: string }[]>;
  close(): Promise<void>;
}
