/**
 * What a request handler (one file per API in this folder) may touch: the broker's shared state, the
 * connection the request came on, and the request itself, positioned after the request header.
 */
import type { Logger } from '../../core/index.ts';
import type { Reader, Writer } from '../../kafka/index.ts';
import type { Authenticator, SaslSession } from '../sasl.ts';
import type { Coordinator } from '../groups.ts';
import type { PartitionLog, StorageError } from '../log.ts';
import type { Storage } from '../storage.ts';

export interface BrokerState {
  storage: Storage;
  groups: Coordinator;
  log: Logger;
  nodeId: number;
  /** The bound port (known once listening). */
  port: number;
  defaultPartitions: number;
  /** fsync acks=-1 produces before answering (`--flush always`). */
  fsyncAcks: boolean;
  /** The partition logs of a topic; created (when allowed and the name is valid) if `create`. */
  ensureTopic(topic: string, create: boolean): PartitionLog[] | undefined;
  /** Set when the listener needs SASL: who may connect, and how. */
  auth?: Authenticator;
  /** A write to the log or the offsets file failed (a full disk): said once, counted, the gauge set. */
  storageFailed(err: StorageError): void;
  /** A write succeeded again: clears what storageFailed set. */
  storageOk(): void;
}

export interface Connection {
  /** `address:port` of the client, for logs. */
  remote: string;
  /** The host the broker names for itself in Metadata and FindCoordinator on this connection. */
  advertisedHost: string;
  /** True once SASL succeeded, or from the start on a listener without credentials. */
  authenticated: boolean;
  /** The SASL exchange under way, after a SaslHandshake. */
  sasl?: SaslSession;
  /** After SaslHandshake v0: the next frames are bare SASL tokens, not requests. */
  rawSasl: boolean;
  /** Send the response, then close the connection (a failed authentication, as Kafka does). */
  closeAfterResponse: boolean;
}

export interface Request {
  version: number;
  /** The request body. */
  r: Reader;
  clientId: string;
  conn: Connection;
}

export interface ApiHandler {
  key: number;
  /** The versions served (non-flexible encodings only), advertised by ApiVersions. */
  versions: readonly [number, number];
  /** The response body (after the correlation id), or null for none (acks=0 produces). */
  handle(req: Request, b: BrokerState): Writer | null | Promise<Writer | null>;
}

/** Writes throttle_time_ms = 0 when the version has it (`from` on). */
export function throttle(w: Writer, version: number, from: number): void {
  if (version >= from) w.int32(0);
}
