/**
 * The bus's own producer: the Kafka protocol over node:net, built for throughput (one record batch per
 * partition per send, encoded by hand into one Buffer — records.ts; several requests in flight per
 * connection, matched by correlation id — protocol.ts has the wire grammar).
 *
 * Life of a send: metadata of the topic (cached; auto-created by the broker when allowed) → each message's
 * partition (murmur2 of the key as the Java client, or a sticky partition per send for null keys) →
 * the batches → one Produce request per leader → resolved when every partition is acknowledged (acks 1
 * or -1), or once written to the socket (acks 0).
 *
 * Failures:
 *  - a retriable partition error (NOT_LEADER_FOR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION, …) or a broker
 *    that cannot be reached: metadata is refreshed and those batches are sent again, up to `retries`
 *    times with exponential backoff; then the send rejects naming the broker, topic and Kafka error;
 *  - a connection that breaks while requests are in flight rejects those sends at once (whether the
 *    broker appended them is unknown; the caller retries, the collection agent rolls back);
 *  - any other partition error rejects with its Kafka name.
 * Batches retried for a partition may land after a later send's batch (as with the Java client without
 * idempotence and more than one request in flight).
 */
import net from 'node:net';
import { createLogger } from '../core/index.ts';
import { ScramClient, ScramError } from '../core/index.ts';
import { encodePlain, errorName, Reader, RETRIABLE, type SaslCredentials } from '../kafka/index.ts';
import { counter } from '../core/index.ts';
import { murmur2Partition } from './murmur2.ts';
import {
  API_METADATA, API_PRODUCE, API_SASL_AUTHENTICATE, API_SASL_HANDSHAKE, API_VERSIONS, decodeApiVersions, decodeMetadata,
  decodeProduce, decodeSaslAuthenticate, decodeSaslHandshake, encodeMetadata, encodeProduce, encodeSaslAuthenticate,
  encodeSaslHandshake, frameRequest, pickVersion, type MetadataTopic, type ProducePartitionResult,
} from './protocol.ts';
import { DEFAULT_MAX_BATCH_BYTES, encodeBatches, type PartitionSegment } from './records.ts';
import type { BusMessage, BusProducer, ProducerOptions } from './types.ts';

const log = createLogger('bus');
const m = {
  records: counter('smartcar_bus_produced_records_total', 'Records acknowledged by the broker (written, for acks=0)', ['topic']),
  bytes: counter('smartcar_bus_produced_bytes_total', 'Record batch bytes sent, retries included'),
  retries: counter('smartcar_bus_produce_retries_total', 'Batches sent again after a retriable error', ['error']),
  failures: counter('smartcar_bus_produce_failures_total', 'Sends rejected, by Kafka error name', ['error']),
};

/** A send that failed: the Kafka error name (or CONNECTION_ERROR / REQUEST_TIMED_OUT), broker and topic. */
export class ProduceError extends Error {
  override readonly name = 'ProduceError';
  constructor(message: string, readonly errorName: string, readonly retriable: boolean) {
    super(message);
  }
}

/** Producer responses are small; anything near this is a broken stream, not a response. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

interface Pending { resolve(r: Reader): void; reject(e: Error): void; timer: NodeJS.Timeout }

/** One TCP connection to one broker: ApiVersions first, then pipelined requests. */
class BrokerConnection {
  private sock!: net.Socket;
  private readonly pending = new Map<number, Pending>();
  private correlation = 0;
  private chunks: Buffer[] = [];
  private buffered = 0;
  closed = false;
  versions = new Map<number, [number, number]>();
  /** Called once when the connection is gone (so that the pool forgets it). */
  onClosed?: () => void;

  constructor(readonly address: string, private readonly clientId: string, private readonly requestTimeoutMs: number, private readonly sasl?: SaslCredentials) {}

  async open(connectTimeoutMs: number): Promise<void> {
    const [host, portText] = splitAddress(this.address);
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect({ host, port: Number(portText), noDelay: true });
      this.sock = sock;
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer within ${connectTimeoutMs} ms`)); }, connectTimeoutMs);
      sock.once('connect', () => { clearTimeout(timer); resolve(); });
      sock.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
    this.sock.setKeepAlive(true, 30_000);
    this.sock.on('data', (c: Buffer) => this.onData(c));
    this.sock.on('error', (e) => this.fail(`connection to ${this.address} failed: ${e.message}`));
    this.sock.on('close', () => this.fail(`connection to ${this.address} closed`));
    const r = await this.request(API_VERSIONS, 0, []);
    const { error, versions } = decodeApiVersions(r!);
    if (error) throw new Error(`ApiVersions answered ${errorName(error)}`);
    this.versions = versions;
    if (this.sasl) await this.authenticate(this.sasl);
  }

  /**
   * SASL: SaslHandshake v1, then SaslAuthenticate: one token for PLAIN, two round trips for SCRAM-SHA-256
   * (whose last answer proves that the broker knows the password too). protocol.ts has the grammar.
   */
  private async authenticate(c: SaslCredentials): Promise<void> {
    const refuse = (why: string, name: string) => new ProduceError(`broker ${this.address} refused the credentials of user '${c.user}': ${why}`, name, false);
    if (pickVersion(API_SASL_HANDSHAKE, this.versions) < 0 || pickVersion(API_SASL_AUTHENTICATE, this.versions) < 0) {
      throw refuse('it offers no SaslHandshake v1 / SaslAuthenticate (is SASL enabled on that listener?)', 'ILLEGAL_SASL_STATE');
    }
    const hs = decodeSaslHandshake((await this.request(API_SASL_HANDSHAKE, 1, encodeSaslHandshake(c.mechanism)))!);
    if (hs.error) throw refuse(`${errorName(hs.error)} (it offers ${hs.mechanisms.join(', ') || 'no mechanism'})`, errorName(hs.error));
    const v = pickVersion(API_SASL_AUTHENTICATE, this.versions);
    const step = async (token: Buffer): Promise<Buffer> => {
      const auth = decodeSaslAuthenticate(v, (await this.request(API_SASL_AUTHENTICATE, v, encodeSaslAuthenticate(token)))!);
      if (auth.error) throw refuse(auth.message ?? errorName(auth.error), errorName(auth.error));
      return auth.token;
    };
    if (c.mechanism === 'PLAIN') {
      await step(encodePlain(c.user, c.password));
      return;
    }
    const scram = new ScramClient(c.user, c.password);
    try {
      const serverFirst = (await step(Buffer.from(scram.first()))).toString('utf8');
      scram.verify((await step(Buffer.from(scram.final(serverFirst)))).toString('utf8'));
    } catch (err) {
      if (err instanceof ScramError) throw refuse(err.message, 'SASL_AUTHENTICATION_FAILED');
      throw err;
    }
  }

  version(api: number): number {
    const v = pickVersion(api, this.versions);
    if (v < 0) {
      const b = this.versions.get(api);
      throw new ProduceError(`broker ${this.address} supports ${api === API_PRODUCE ? 'Produce' : 'Metadata'} versions ${b ? `${b[0]}–${b[1]}` : 'none'}, this client needs ${api === API_PRODUCE ? '3–7' : '1–5'}`, 'UNSUPPORTED_VERSION', false);
    }
    return v;
  }

  /** Sends a request; resolves with a Reader at the response body, or null when no response is expected (acks 0). */
  request(api: number, version: number, body: Buffer[], expectResponse = true): Promise<Reader | null> {
    if (this.closed || this.sock.destroyed) return Promise.reject(new ProduceError(`connection to ${this.address} is closed`, 'CONNECTION_ERROR', true));
    const id = this.correlation = (this.correlation + 1) & 0x7fffffff;
    const parts = frameRequest(api, version, id, this.clientId, body);
    return new Promise<Reader | null>((resolve, reject) => {
      if (expectResponse) {
        const timer = setTimeout(() => {
          // A request unanswered in time: the connection is in an unknown state, as Kafka clients do, drop it.
          this.fail(`request ${id} to ${this.address} got no response within ${this.requestTimeoutMs} ms`, 'REQUEST_TIMED_OUT');
        }, this.requestTimeoutMs);
        this.pending.set(id, { resolve, reject, timer });
      }
      this.sock.cork();
      for (let i = 0; i < parts.length - 1; i++) this.sock.write(parts[i]);
      this.sock.write(parts[parts.length - 1], expectResponse ? undefined : (err) => {
        if (err) reject(new ProduceError(`write to ${this.address} failed: ${err.message}`, 'CONNECTION_ERROR', true));
        else resolve(null);
      });
      this.sock.uncork();
    });
  }

  private onData(c: Buffer): void {
    this.chunks.push(c);
    this.buffered += c.length;
    while (this.buffered >= 4) {
      let buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      const size = buf.readInt32BE(0);
      if (size < 4 || size > MAX_RESPONSE_BYTES) return this.fail(`broker ${this.address} sent a malformed frame (size ${size})`);
      if (buf.length < 4 + size) { this.chunks = [buf]; return; }
      const id = buf.readInt32BE(4);
      const frame = buf.subarray(8, 4 + size);
      buf = buf.subarray(4 + size);
      this.chunks = buf.length ? [buf] : [];
      this.buffered = buf.length;
      const p = this.pending.get(id);
      if (!p) {
        log.warn({ broker: this.address, correlationId: id }, 'response to no pending request ignored');
        continue;
      }
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(new Reader(frame));
    }
  }

  /** Closes the connection and rejects every request in flight on it. */
  fail(reason: string, name = 'CONNECTION_ERROR'): void {
    if (!this.closed) {
      this.closed = true;
      this.sock?.destroy();
      this.onClosed?.();
    }
    if (this.pending.size === 0) return;
    const err = new ProduceError(reason, name, true);
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(err); }
    this.pending.clear();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || !this.sock) { this.closed = true; resolve(); return; }
      this.closed = true;
      this.onClosed?.();
      this.sock.once('close', () => resolve());
      this.sock.end();
      setTimeout(() => { this.sock.destroy(); resolve(); }, 1000).unref();
    });
  }
}

function splitAddress(a: string): [string, string] {
  const i = a.lastIndexOf(':');
  if (i <= 0) throw new ProduceError(`broker address "${a}" is not host:port`, 'INVALID_CONFIG', false);
  return [a.slice(0, i).replace(/^\[|\]$/g, ''), a.slice(i + 1)];
}

interface TopicInfo { partitions: number; leaders: Int32Array }

export interface NativeProducerOptions extends ProducerOptions {
  brokers: string[];
  clientId?: string;
  /** SASL credentials (PLAIN or SCRAM-SHA-256), presented on every connection right after ApiVersions. */
  sasl?: SaslCredentials;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function createNativeProducer(o: NativeProducerOptions): Promise<BusProducer> {
  const producer = new NativeProducer(o);
  await producer.bootstrap();
  return producer;
}

class NativeProducer implements BusProducer {
  private readonly acks: number;
  private readonly gzip: boolean;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly clientId: string;
  private readonly maxBatchBytes: number;
  /** Sends not settled yet: close() lets them finish. */
  private readonly inflight = new Set<Promise<void>>();
  private readonly conns = new Map<string, Promise<BrokerConnection>>();
  /** node id → host:port, from the latest metadata. */
  private readonly nodes = new Map<number, string>();
  private readonly topics = new Map<string, TopicInfo>();
  private readonly refreshing = new Map<string, Promise<TopicInfo>>();
  /** Partition of each string key, per partition count: a fleet has few cars, murmur2 runs once per car. */
  private readonly keyCache = new Map<number, Map<string, number>>();
  private sticky = 0;
  private closed = false;

  constructor(private readonly o: NativeProducerOptions) {
    if (!o.brokers.length) throw new ProduceError('no broker address given (brokers is empty)', 'INVALID_CONFIG', false);
    this.acks = o.acks ?? -1;
    if (![0, 1, -1].includes(this.acks)) throw new ProduceError(`acks must be 0, 1 or -1, got ${this.acks}`, 'INVALID_CONFIG', false);
    this.gzip = o.compression === 'gzip';
    this.retries = o.retries ?? 8;
    this.backoffMs = o.retryBackoffMs ?? 100;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 30_000;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 5_000;
    this.clientId = o.clientId ?? 'smartcar';
    this.maxBatchBytes = o.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    for (const [k, v] of Object.entries({ retries: this.retries, retryBackoffMs: this.backoffMs, requestTimeoutMs: this.requestTimeoutMs, connectTimeoutMs: this.connectTimeoutMs, maxBatchBytes: this.maxBatchBytes })) {
      if (!Number.isInteger(v) || v < 0 || (k !== 'retries' && v === 0)) throw new ProduceError(`producer option ${k} must be a ${k === 'retries' ? 'non-negative' : 'positive'} integer, got ${String(v)}`, 'INVALID_CONFIG', false);
    }
  }

  private backoff(attempt: number): number {
    return Math.min(this.backoffMs * 2 ** attempt, 2_000);
  }

  /** A live connection to `address`, opening it (with ApiVersions) if needed. */
  private connection(address: string): Promise<BrokerConnection> {
    const cur = this.conns.get(address);
    if (cur) return cur;
    const c = new BrokerConnection(address, this.clientId, this.requestTimeoutMs, this.o.sasl);
    c.onClosed = () => { if (this.conns.get(address) === opening) this.conns.delete(address); };
    const opening: Promise<BrokerConnection> = c.open(this.connectTimeoutMs).then(() => c, (err: Error) => {
      c.fail(err.message);
      this.conns.delete(address);
      throw err instanceof ProduceError ? err : new ProduceError(`cannot connect to broker ${address}: ${err.message}`, 'CONNECTION_ERROR', true);
    });
    // A connection that dies is forgotten (onClosed), so that the next use reconnects.
    this.conns.set(address, opening);
    return opening;
  }

  async bootstrap(): Promise<void> {
    let last: Error | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      for (const b of this.o.brokers) {
        try {
          await this.connection(b);
          return;
        } catch (err) {
          last = err as Error;
          if (err instanceof ProduceError && !err.retriable) throw err;
        }
      }
      if (attempt < this.retries) await sleep(this.backoff(attempt));
    }
    throw new ProduceError(`no broker reachable among ${this.o.brokers.join(', ')} after ${this.retries} retries: ${last?.message}`, 'CONNECTION_ERROR', true);
  }

  /** Any live connection for metadata: the bootstrap brokers first, then the known nodes. */
  private async anyConnection(): Promise<BrokerConnection> {
    const candidates = [...new Set([...this.o.brokers, ...this.nodes.values()])];
    let last: Error | undefined;
    for (const a of candidates) {
      try {
        return await this.connection(a);
      } catch (err) {
        last = err as Error;
      }
    }
    throw new ProduceError(`no broker reachable among ${candidates.join(', ')}: ${last?.message}`, 'CONNECTION_ERROR', true);
  }

  /** The topic's partitions and leaders; fetched (and auto-created by the broker if allowed) when unknown or stale. */
  private topicInfo(topic: string, refresh: boolean): Promise<TopicInfo> {
    const known = this.topics.get(topic);
    if (known && !refresh) return Promise.resolve(known);
    const inflight = this.refreshing.get(topic);
    if (inflight) return inflight;
    // A refresh inside a send's retry loop is one attempt: the send's own retries do the waiting.
    const p = this.fetchMetadata(topic, refresh ? 0 : this.retries).finally(() => this.refreshing.delete(topic));
    this.refreshing.set(topic, p);
    return p;
  }

  private async fetchMetadata(topic: string, retries: number): Promise<TopicInfo> {
    let last: ProduceError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt) await sleep(this.backoff(attempt - 1));
      if (this.closed) break;
      let conn: BrokerConnection;
      let t: MetadataTopic | undefined;
      try {
        conn = await this.anyConnection();
        const v = conn.version(API_METADATA);
        const r = await conn.request(API_METADATA, v, encodeMetadata(v, [topic], true));
        const md = decodeMetadata(v, r!);
        for (const b of md.brokers) this.nodes.set(b.nodeId, `${b.host}:${b.port}`);
        t = md.topics.find((x) => x.name === topic);
      } catch (err) {
        if (err instanceof ProduceError && !err.retriable) throw err;
        last = err instanceof ProduceError ? err : new ProduceError((err as Error).message, 'CONNECTION_ERROR', true);
        continue;
      }
      const where = `broker ${conn.address}, topic "${topic}"`;
      if (!t) { last = new ProduceError(`metadata from ${where}: the topic is missing from the answer`, 'UNKNOWN_TOPIC_OR_PARTITION', true); continue; }
      if (t.error) {
        last = new ProduceError(`metadata from ${where}: ${errorName(t.error)}${t.error === 3 ? ' (is topic auto-creation disabled? create it first)' : ''}`, errorName(t.error), RETRIABLE.has(t.error));
        if (!last.retriable) throw last;
        continue;
      }
      const n = t.partitions.length;
      const leaders = new Int32Array(n).fill(-1);
      let ok = n > 0;
      for (const p of t.partitions) {
        if (p.partition < 0 || p.partition >= n) { ok = false; break; }
        leaders[p.partition] = p.leader;
      }
      if (!ok || leaders.some((l) => l < 0 || !this.nodes.has(l))) {
        last = new ProduceError(`metadata from ${where}: no leader yet for some partitions`, 'LEADER_NOT_AVAILABLE', true);
        continue;
      }
      const info = { partitions: n, leaders };
      this.topics.set(topic, info);
      return info;
    }
    throw new ProduceError(`cannot get metadata for topic "${topic}" after ${retries} retries: ${last?.message ?? 'producer closed'}`, last?.errorName ?? 'CONNECTION_ERROR', true);
  }

  private partitionOf(messages: BusMessage[], partitions: number): Int32Array {
    const out = new Int32Array(messages.length);
    let cache = this.keyCache.get(partitions);
    if (!cache || cache.size > 100_000) this.keyCache.set(partitions, (cache = new Map()));
    // Null keys: one partition for the whole send (the Java client's sticky partitioner), the next one next time.
    const sticky = this.sticky++ % partitions;
    for (let i = 0; i < messages.length; i++) {
      const k = messages[i]?.key;
      if (k == null) out[i] = sticky;
      else if (typeof k === 'string') {
        let p = cache.get(k);
        if (p === undefined) cache.set(k, (p = murmur2Partition(k, partitions)));
        out[i] = p;
      } else if (Buffer.isBuffer(k)) out[i] = murmur2Partition(k, partitions);
      // Anything else is reported by the encoder with the message's index.
    }
    return out;
  }

  send(topic: string, messages: BusMessage[]): Promise<void> {
    const p = this.deliver(topic, messages).then(
      () => { m.records.inc({ topic }, messages.length); },
      (err: Error) => { m.failures.inc({ error: err instanceof ProduceError ? err.errorName : err.name }); throw err; },
    ).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return p;
  }

  private async deliver(topic: string, messages: BusMessage[]): Promise<void> {
    if (this.closed) throw new ProduceError(`send to topic "${topic}" after the producer was closed`, 'PRODUCER_CLOSED', false);
    if (!Array.isArray(messages)) throw new ProduceError(`send to topic "${topic}": messages must be an array`, 'INVALID_REQUEST', false);
    if (!messages.length) return;
    const info = await this.topicInfo(topic, false);
    const segments = encodeBatches(messages, this.partitionOf(messages, info.partitions), info.partitions, Date.now(), this.gzip, this.maxBatchBytes);
    let todo = segments;
    let lastError: ProduceError | undefined;
    for (let attempt = 0; ; attempt++) {
      const current = attempt === 0 ? info : await this.topicInfo(topic, true).catch((err: ProduceError) => err);
      if (current instanceof Error) lastError = current;
      else {
        const byLeader = new Map<number, PartitionSegment[]>();
        for (const s of todo) {
          // A partition count that shrank cannot happen in Kafka; keep the batch on its partition.
          const leader = current.leaders[s.partition] ?? -1;
          let l = byLeader.get(leader);
          if (!l) byLeader.set(leader, (l = []));
          l.push(s);
        }
        const results = await Promise.all([...byLeader].map(([leader, segs]) => this.produceTo(leader, topic, segs)));
        todo = [];
        for (const r of results) {
          if (r.fatal) throw r.fatal;
          todo.push(...r.retry);
          if (r.error) lastError = r.error;
        }
        if (!todo.length) return;
      }
      if (attempt >= this.retries || this.closed) {
        const why = this.closed ? 'was abandoned: the producer was closed while retrying' : `failed after ${this.retries} retries`;
        throw new ProduceError(`send of ${messages.length} messages to topic "${topic}" ${why} (partitions ${todo.map((s) => s.partition).join(', ')}): ${lastError?.message}`, lastError?.errorName ?? 'UNKNOWN', true);
      }
      m.retries.inc({ error: lastError?.errorName ?? 'UNKNOWN' }, todo.length);
      await sleep(this.backoff(attempt));
    }
  }

  /** One Produce request to one leader; sorts its partitions into done, to retry, or a fatal error. */
  private async produceTo(leader: number, topic: string, segs: PartitionSegment[]): Promise<{ retry: PartitionSegment[]; error?: ProduceError; fatal?: ProduceError }> {
    const address = this.nodes.get(leader);
    if (!address) return { retry: segs, error: new ProduceError(`topic "${topic}": no known leader for partitions ${segs.map((s) => s.partition).join(', ')}`, 'LEADER_NOT_AVAILABLE', true) };
    let conn: BrokerConnection;
    try {
      conn = await this.connection(address);
    } catch (err) {
      // Nothing was written: safe to retry after a metadata refresh.
      const e = err as ProduceError;
      if (!e.retriable) return { retry: [], fatal: e };
      return { retry: segs, error: new ProduceError(`topic "${topic}": ${e.message}`, 'CONNECTION_ERROR', true) };
    }
    // A request carries each partition once: a partition with several batches (over maxBatchBytes) takes
    // several requests, pipelined in order on the one connection (Kafka handles them in order).
    const waves: PartitionSegment[][] = [];
    const seen = new Map<number, number>();
    for (const x of segs) {
      const k = seen.get(x.partition) ?? 0;
      seen.set(x.partition, k + 1);
      (waves[k] ??= []).push(x);
    }
    if (waves.length === 1) return this.produceRequest(conn, topic, segs);
    const results = await Promise.all(waves.map((w) => this.produceRequest(conn, topic, w)));
    const fatal = results.find((r) => r.fatal)?.fatal;
    if (fatal) return { retry: [], fatal };
    return { retry: results.flatMap((r) => r.retry), error: results.find((r) => r.error)?.error };
  }

  private async produceRequest(conn: BrokerConnection, topic: string, segs: PartitionSegment[]): Promise<{ retry: PartitionSegment[]; error?: ProduceError; fatal?: ProduceError }> {
    const address = conn.address;
    const v = conn.version(API_PRODUCE);
    let r: Reader | null;
    m.bytes.inc(segs.reduce((n, x) => n + x.segment.length - 8, 0));
    try {
      r = await conn.request(API_PRODUCE, v, encodeProduce(this.acks, this.requestTimeoutMs, topic, segs.map((s) => s.segment)), this.acks !== 0);
    } catch (err) {
      const e = err as ProduceError;
      const n = segs.reduce((s, x) => s + x.records, 0);
      return { retry: [], fatal: new ProduceError(`${e.message}, with ${n} records to topic "${topic}" in flight (they may or may not have been written; send them again)`, e.errorName ?? 'CONNECTION_ERROR', true) };
    }
    if (r === null) return { retry: [] };
    let results: ProducePartitionResult[];
    try {
      results = decodeProduce(v, r);
    } catch (err) {
      conn.fail(`broker ${address} sent a malformed Produce v${v} response: ${(err as Error).message}`);
      return { retry: [], fatal: new ProduceError(`broker ${address} sent a malformed Produce v${v} response for topic "${topic}" (${(err as Error).message}); whether the records were written is unknown, send them again`, 'MALFORMED_RESPONSE', true) };
    }
    const retry: PartitionSegment[] = [];
    let error: ProduceError | undefined;
    for (const s of segs) {
      const res = results.find((x) => x.partition === s.partition && x.topic === topic);
      const code = res ? res.error : 13;
      if (code === 0) continue;
      const name = res ? errorName(code) : 'NETWORK_EXCEPTION';
      error = new ProduceError(`broker ${address} answered ${name} for topic "${topic}" partition ${s.partition}${res ? '' : ' (no result in the response)'}`, name, RETRIABLE.has(code));
      if (!error.retriable) return { retry: [], fatal: error };
      retry.push(s);
    }
    return { retry, error };
  }

  /** Lets the sends in flight settle (their retries stop), then closes the connections. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    const conns = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(conns.map((p) => p.then((c) => c.close(), () => {})));
  }
}
