/**
 * The embedded broker: a single node speaking the Kafka wire protocol on TCP.
 *
 * Advertised API versions (non-flexible encodings only; requests for other versions get
 * UNSUPPORTED_VERSION, ApiVersions answers in v0 form per KIP-511):
 *   Produce 3–5 · Fetch 4–6 · ListOffsets 1–2 · Metadata 0–5 · OffsetCommit 0–3 · OffsetFetch 1–3 ·
 *   FindCoordinator 0–1 · JoinGroup 0–2 · Heartbeat 0–1 · LeaveGroup 0–1 · SyncGroup 0–1 ·
 *   DescribeGroups 0–1 · ListGroups 0–1 · ApiVersions 0–2 · CreateTopics 0–2
 *
 * Each connection's requests are handled one at a time and answered in order, as Kafka does.
 * Malformed frames, oversize requests and garbage bytes close that connection and are logged; every
 * other client is unaffected.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
import { counter, gauge } from '../core/metrics.ts';
import { BatchError, scanBatches } from './batch.ts';
import { Coordinator, E } from './groups.ts';
import { PartitionLog, StorageError } from './log.ts';
import { Reader, WireError, Writer } from './wire.ts';

const log = createLogger('broker');
const m = {
  requests: counter('smartcar_broker_requests_total', 'Requests by API key', ['api']),
  errors: counter('smartcar_broker_request_errors_total', 'Requests answered with an error or dropped', ['reason']),
  bytesIn: counter('smartcar_broker_bytes_in_total', 'Request bytes received'),
  bytesOut: counter('smartcar_broker_bytes_out_total', 'Response bytes sent'),
  records: counter('smartcar_broker_records_produced_total', 'Records appended'),
  connections: gauge('smartcar_broker_connections', 'Open client connections'),
  diskFull: gauge('smartcar_broker_storage_failing', '1 while the last write to the log or the offsets file failed (a full disk), 0 once one succeeded'),
};

export const VERSIONS: Record<number, [number, number]> = {
  0: [3, 5], 1: [4, 6], 2: [1, 2], 3: [0, 5], 8: [0, 3], 9: [1, 3], 10: [0, 1], 11: [0, 2], 12: [0, 1],
  13: [0, 1], 14: [0, 1], 15: [0, 1], 16: [0, 1], 18: [0, 2], 19: [0, 2],
};
const API_NAMES: Record<number, string> = {
  0: 'Produce', 1: 'Fetch', 2: 'ListOffsets', 3: 'Metadata', 8: 'OffsetCommit', 9: 'OffsetFetch', 10: 'FindCoordinator',
  11: 'JoinGroup', 12: 'Heartbeat', 13: 'LeaveGroup', 14: 'SyncGroup', 15: 'DescribeGroups', 16: 'ListGroups', 18: 'ApiVersions', 19: 'CreateTopics',
};
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

export interface BrokerOptions {
  host?: string;
  port?: number;
  dataDir: string;
  defaultPartitions?: number;
  autoCreateTopics?: boolean;
  /** `always`: an acks=-1 produce is fsynced before it is acknowledged (default). `interval`: fsync every second. */
  flush?: 'always' | 'interval';
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  maxRequestBytes?: number;
  /** The flag that sets the port, named when it is busy (`--port`; `smartcar up` says `--broker-port`). */
  portFlag?: string;
}

export interface Broker {
  host: string;
  port: number;
  close(): Promise<void>;
}

interface Waiter { done: () => void }

class Storage {
  readonly topics = new Map<string, PartitionLog[]>();
  private readonly waiters = new Map<PartitionLog, Set<Waiter>>();
  private readonly file: string;

  constructor(private readonly dir: string, private readonly o: Required<Pick<BrokerOptions, 'segmentBytes' | 'retentionMs' | 'retentionBytes'>>) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'topics.json');
    const known = fs.existsSync(this.file) ? (JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, number>) : {};
    for (const [t, n] of Object.entries(known)) this.open(t, n);
  }

  private open(topic: string, partitions: number): void {
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitions; p++) {
      const l = new PartitionLog(path.join(this.dir, `${topic}-${p}`), this.o);
      if (l.truncatedBytes) log.warn({ topic, partition: p, bytes: l.truncatedBytes }, 'truncated a torn tail left by a crash');
      logs.push(l);
    }
    this.topics.set(topic, logs);
  }

  create(topic: string, partitions: number): void {
    this.open(topic, partitions);
    const all = Object.fromEntries([...this.topics].map(([t, l]) => [t, l.length]));
    const tmp = this.file + '.tmp';
    fs.writeFileSync(tmp, JSON.stringify(all));
    fs.renameSync(tmp, this.file);
  }

  wait(logs: PartitionLog[], ms: number): Promise<void> {
    return new Promise((resolve) => {
      const w: Waiter = {
        done: () => {
          clearTimeout(timer);
          for (const l of logs) this.waiters.get(l)?.delete(w);
          resolve();
        },
      };
      const timer = setTimeout(w.done, ms);
      for (const l of logs) {
        let s = this.waiters.get(l);
        if (!s) this.waiters.set(l, (s = new Set()));
        s.add(w);
      }
    });
  }

  notify(l: PartitionLog): void {
    const s = this.waiters.get(l);
    if (s) for (const w of [...s]) w.done();
  }
}

export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const host = opts.host ?? '127.0.0.1';
  const defaultPartitions = opts.defaultPartitions ?? 4;
  const autoCreate = opts.autoCreateTopics ?? true;
  const flush = opts.flush ?? 'always';
  const maxRequest = opts.maxRequestBytes ?? 100 * 1024 * 1024;
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const storage = new Storage(opts.dataDir, {
    segmentBytes: opts.segmentBytes ?? 256 * 1024 * 1024,
    retentionMs: opts.retentionMs ?? 7 * 24 * 3600_000,
    retentionBytes: opts.retentionBytes ?? -1,
  });
  const groups = new Coordinator(opts.dataDir);
  let port = opts.port ?? 9092;
  const NODE = 0;
  // A full disk: answered KAFKA_STORAGE_ERROR (producers retry) while it lasts, said once in the log.
  let storageFailing = false;
  const storageFailed = (err: StorageError) => {
    m.errors.inc({ reason: 'storage' });
    m.diskFull.set(1);
    if (!storageFailing) log.error({ code: err.code, err: err.message }, 'the log cannot be written (disk full?): produce requests are refused with KAFKA_STORAGE_ERROR until a write succeeds; nothing was stored of them');
    storageFailing = true;
  };
  const storageOk = () => {
    if (!storageFailing) return;
    storageFailing = false;
    m.diskFull.set(0);
    log.info('the log can be written again; producing resumed');
  };

  const ensureTopic = (t: string, create: boolean): PartitionLog[] | undefined => {
    const l = storage.topics.get(t);
    if (l || !create || !autoCreate || !TOPIC_NAME.test(t)) return l;
    storage.create(t, defaultPartitions);
    log.info({ topic: t, partitions: defaultPartitions }, 'topic auto-created');
    return storage.topics.get(t);
  };

  const flushTimer = setInterval(() => {
    for (const logs of storage.topics.values()) for (const l of logs) try { l.flush(); } catch (err) { log.error({ err: String(err) }, 'flush failed'); }
  }, 1000);
  flushTimer.unref();
  const retentionTimer = setInterval(() => {
    for (const [t, logs] of storage.topics) logs.forEach((l, p) => { const n = l.retain(Date.now()); if (n) log.info({ topic: t, partition: p, segments: n }, 'retention removed old segments'); });
  }, 60_000);
  retentionTimer.unref();

  /** Handles one request; returns the response body (after the correlation id) or null for no response. */
  async function handle(api: number, v: number, r: Reader, clientId: string, remote: string): Promise<Writer | null> {
    const w = new Writer();
    const throttle = (from: number) => { if (v >= from) w.int32(0); };
    switch (api) {
      case 18: { // ApiVersions
        w.int16(E.NONE);
        w.array(Object.entries(VERSIONS), (x, [k, [lo, hi]]) => x.int16(Number(k)).int16(lo).int16(hi));
        throttle(1);
        return w;
      }
      case 3: { // Metadata
        const names = v === 0 ? r.array((x) => x.string()) : r.array((x) => x.string());
        const allowCreate = v >= 4 ? r.bool() : true;
        const wanted = names === null || (v === 0 && names.length === 0) ? [...storage.topics.keys()] : names;
        throttle(3);
        w.array([0], (x) => { x.int32(NODE).string(host).int32(port); if (v >= 1) x.string(null); });
        if (v >= 2) w.string('smartcar');
        if (v >= 1) w.int32(NODE);
        w.array(wanted, (x, t) => {
          const logs = ensureTopic(t, allowCreate);
          x.int16(logs ? E.NONE : TOPIC_NAME.test(t) ? E.UNKNOWN_TOPIC_OR_PARTITION : E.INVALID_TOPIC).string(t);
          if (v >= 1) x.bool(false);
          x.array(logs ? logs.map((_, i) => i) : [], (y, p) => {
            y.int16(E.NONE).int32(p).int32(NODE).array([NODE], (z, n) => z.int32(n)).array([NODE], (z, n) => z.int32(n));
            if (v >= 5) y.array([], () => {});
          });
        });
        return w;
      }
      case 0: { // Produce
        r.nullableString();
        const acks = r.int16();
        r.int32();
        const topics = r.array((x) => ({ name: x.string(), parts: x.array((y) => ({ p: y.int32(), data: y.bytes() })) ?? [] })) ?? [];
        const results: { name: string; parts: { p: number; error: number; base: bigint; start: bigint }[] }[] = [];
        for (const t of topics) {
          const logs = storage.topics.get(t.name);
          const parts = [];
          for (const pd of t.parts) {
            const l = logs?.[pd.p];
            if (!l) { parts.push({ p: pd.p, error: E.UNKNOWN_TOPIC_OR_PARTITION, base: -1n, start: -1n }); continue; }
            if (!pd.data || pd.data.length === 0) { parts.push({ p: pd.p, error: E.CORRUPT_MESSAGE, base: -1n, start: l.logStart }); continue; }
            try {
              // Copy: the request buffer is reused by the connection, and base offsets are written in place.
              const data = Buffer.from(pd.data);
              const { batches } = scanBatches(data, true, false);
              const base = l.append(data, batches, acks === -1 && flush === 'always');
              m.records.inc(batches.reduce((s, b) => s + b.recordCount, 0));
              storage.notify(l);
              storageOk();
              parts.push({ p: pd.p, error: E.NONE, base, start: l.logStart });
            } catch (err) {
              if (err instanceof StorageError) {
                storageFailed(err);
                parts.push({ p: pd.p, error: E.KAFKA_STORAGE_ERROR, base: -1n, start: l.logStart });
                continue;
              }
              if (!(err instanceof BatchError)) throw err;
              m.errors.inc({ reason: 'corrupt_batch' });
              log.warn({ topic: t.name, partition: pd.p, client: clientId, remote, err: err.message }, 'rejected a corrupt record batch');
              parts.push({ p: pd.p, error: E.CORRUPT_MESSAGE, base: -1n, start: l.logStart });
            }
          }
          results.push({ name: t.name, parts });
        }
        if (acks === 0) return null;
        w.array(results, (x, t) => x.string(t.name).array(t.parts, (y, p) => {
          y.int32(p.p).int16(p.error).int64(p.base);
          if (v >= 2) y.int64(-1n);
          if (v >= 5) y.int64(p.start);
        }));
        throttle(1);
        return w;
      }
      case 1: { // Fetch
        r.int32();
        const maxWait = r.int32();
        const minBytes = r.int32();
        const maxBytes = r.int32();
        r.int8();
        const topics = r.array((x) => ({
          name: x.string(),
          parts: x.array((y) => { const p = y.int32(); const offset = y.int64(); if (v >= 5) y.int64(); return { p, offset, max: y.int32() }; }) ?? [],
        })) ?? [];
        const collect = () => {
          let total = 0;
          const out = topics.map((t) => ({
            name: t.name,
            parts: t.parts.map((pp) => {
              const l = storage.topics.get(t.name)?.[pp.p];
              if (!l) return { p: pp.p, error: E.UNKNOWN_TOPIC_OR_PARTITION, hw: -1n, start: -1n, data: Buffer.alloc(0) };
              if (pp.offset < l.logStart || pp.offset > l.leo) return { p: pp.p, error: E.OFFSET_OUT_OF_RANGE, hw: l.leo, start: l.logStart, data: Buffer.alloc(0) };
              const room = Math.max(0, Math.min(pp.max, maxBytes - total));
              const data = room > 0 || total === 0 ? l.read(pp.offset, Math.max(room, 1)) : Buffer.alloc(0);
              total += data.length;
              return { p: pp.p, error: E.NONE, hw: l.leo, start: l.logStart, data };
            }),
          }));
          return { out, total };
        };
        let res = collect();
        if (res.total < Math.max(1, minBytes) && maxWait > 0) {
          const logs = topics.flatMap((t) => t.parts.map((pp) => storage.topics.get(t.name)?.[pp.p]).filter((l): l is PartitionLog => !!l));
          if (logs.length) {
            await storage.wait(logs, maxWait);
            res = collect();
          }
        }
        throttle(1);
        w.array(res.out, (x, t) => x.string(t.name).array(t.parts, (y, p) => {
          y.int32(p.p).int16(p.error).int64(p.hw).int64(p.hw);
          if (v >= 5) y.int64(p.start);
          y.array([], () => {});
          y.bytes(p.data);
        }));
        return w;
      }
      case 2: { // ListOffsets
        r.int32();
        if (v >= 2) r.int8();
        const topics = r.array((x) => ({ name: x.string(), parts: x.array((y) => ({ p: y.int32(), ts: y.int64() })) ?? [] })) ?? [];
        throttle(2);
        w.array(topics, (x, t) => x.string(t.name).array(t.parts, (y, pp) => {
          const l = storage.topics.get(t.name)?.[pp.p];
          if (!l) { y.int32(pp.p).int16(E.UNKNOWN_TOPIC_OR_PARTITION).int64(-1n).int64(-1n); return; }
          const offset = pp.ts === -1n ? l.leo : pp.ts === -2n ? l.logStart : l.offsetForTime(pp.ts);
          y.int32(pp.p).int16(E.NONE).int64(-1n).int64(offset);
        }));
        return w;
      }
      case 10: { // FindCoordinator
        r.string();
        if (v >= 1) r.int8();
        throttle(1);
        w.int16(E.NONE);
        if (v >= 1) w.string(null);
        w.int32(NODE).string(host).int32(port);
        return w;
      }
      case 11: { // JoinGroup
        const group = r.string();
        const session = r.int32();
        const rebalance = v >= 1 ? r.int32() : session;
        const member = r.string();
        const ptype = r.string();
        const protocols = r.array((x) => ({ name: x.string(), metadata: Buffer.from(x.bytes() ?? Buffer.alloc(0)) })) ?? [];
        const res = await groups.join(group, member, clientId, remote, session, rebalance, ptype, protocols);
        throttle(2);
        w.int16(res.error).int32(res.generation).string(res.protocol).string(res.leader).string(res.memberId);
        w.array(res.members, (x, mm) => x.string(mm.id).bytes(mm.metadata));
        return w;
      }
      case 14: { // SyncGroup
        const group = r.string();
        const gen = r.int32();
        const member = r.string();
        const assignments = r.array((x) => ({ id: x.string(), assignment: Buffer.from(x.bytes() ?? Buffer.alloc(0)) })) ?? [];
        const res = await groups.sync(group, gen, member, assignments);
        throttle(1);
        w.int16(res.error).bytes(res.assignment);
        return w;
      }
      case 12: { // Heartbeat
        const err = groups.heartbeat(r.string(), r.int32(), r.string());
        throttle(1);
        w.int16(err);
        return w;
      }
      case 13: { // LeaveGroup
        const err = groups.leave(r.string(), r.string());
        throttle(1);
        w.int16(err);
        return w;
      }
      case 8: { // OffsetCommit
        const group = r.string();
        if (v >= 1) { r.int32(); r.string(); }
        if (v >= 2) r.int64();
        const topics = r.array((x) => ({
          name: x.string(),
          parts: x.array((y) => { const p = y.int32(); const offset = y.int64(); if (v === 1) y.int64(); return { p, offset, metadata: y.nullableString() ?? '' }; }) ?? [],
        })) ?? [];
        const ok: { topic: string; partition: number; offset: bigint; metadata: string }[] = [];
        for (const t of topics) for (const pp of t.parts) if (storage.topics.get(t.name)?.[pp.p]) ok.push({ topic: t.name, partition: pp.p, offset: pp.offset, metadata: pp.metadata });
        let failed = false;
        try {
          groups.commit(group, ok);
          if (ok.length) storageOk();
        } catch (err) {
          if (!(err instanceof StorageError)) throw err;
          storageFailed(err);
          failed = true;
        }
        throttle(3);
        w.array(topics, (x, t) => x.string(t.name).array(t.parts, (y, pp) => y.int32(pp.p).int16(failed ? E.COORDINATOR_NOT_AVAILABLE : storage.topics.get(t.name)?.[pp.p] ? E.NONE : E.UNKNOWN_TOPIC_OR_PARTITION)));
        return w;
      }
      case 9: { // OffsetFetch
        const group = r.string();
        let topics = r.array((x) => ({ name: x.string(), parts: x.array((y) => y.int32()) ?? [] }));
        if (topics === null) topics = [...groups.committedTopics(group)].map(([name, parts]) => ({ name, parts }));
        throttle(3);
        w.array(topics, (x, t) => x.string(t.name).array(t.parts, (y, p) => {
          const o = groups.fetchOffset(group, t.name, p);
          y.int32(p).int64(o ? o.offset : -1n).string(o ? o.metadata : '').int16(E.NONE);
        }));
        if (v >= 2) w.int16(E.NONE);
        return w;
      }
      case 19: { // CreateTopics
        const topics = r.array((x) => {
          const name = x.string();
          const partitions = x.int32();
          const rf = x.int16();
          x.array((y) => { y.int32(); y.array((z) => z.int32()); return 0; });
          x.array((y) => { y.string(); y.nullableString(); return 0; });
          return { name, partitions, rf };
        }) ?? [];
        r.int32();
        const validateOnly = v >= 1 ? r.bool() : false;
        throttle(2);
        w.array(topics, (x, t) => {
          let err: number = E.NONE, msg: string | null = null;
          if (!TOPIC_NAME.test(t.name)) { err = E.INVALID_TOPIC; msg = 'topic names are 1–249 of [A-Za-z0-9._-]'; }
          else if (storage.topics.has(t.name)) { err = E.TOPIC_ALREADY_EXISTS; msg = `topic '${t.name}' already exists`; }
          else if (t.partitions === 0 || t.partitions > 10_000) { err = E.INVALID_PARTITIONS; msg = 'partitions must be 1..10000 (or -1 for the default)'; }
          else if (t.rf > 1) { err = E.INVALID_REPLICATION_FACTOR; msg = 'a single-node broker has replication factor 1'; }
          else if (!validateOnly) storage.create(t.name, t.partitions < 0 ? defaultPartitions : t.partitions);
          x.string(t.name).int16(err);
          if (v >= 1) x.string(msg);
        });
        return w;
      }
      case 15: { // DescribeGroups
        const ids = r.array((x) => x.string()) ?? [];
        throttle(1);
        w.array(ids, (x, id) => {
          const d = groups.describe(id);
          x.int16(E.NONE).string(id).string(d.state).string(d.protocolType).string(d.protocol);
          x.array(d.members, (y, mm) => y.string(mm.id).string(mm.clientId).string(mm.host).bytes(mm.metadata).bytes(mm.assignment));
        });
        return w;
      }
      case 16: { // ListGroups
        throttle(1);
        w.int16(E.NONE).array(groups.list(), (x, g) => x.string(g.id).string(g.protocolType));
        return w;
      }
    }
    return null;
  }

  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    m.connections.inc();
    const remote = `${sock.remoteAddress}:${sock.remotePort}`;
    let buf: Buffer = Buffer.alloc(0);
    let chain = Promise.resolve();
    // Set when the broker drops the connection for a protocol error: what is queued behind it is not
    // processed. A client closing its side is different: requests it sent (acks=0 produces) still count.
    let dropped = false;
    const drop = (reason: string, detail: string) => {
      dropped = true;
      m.errors.inc({ reason });
      log.warn({ remote, reason, detail }, 'closing a client connection');
      sock.destroy();
    };
    sock.on('data', (chunk: Buffer) => {
      m.bytesIn.inc(chunk.length);
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0);
        if (size < 8 || size > maxRequest) return drop('bad_frame', `frame size ${size} (max ${maxRequest})`);
        if (buf.length < 4 + size) break;
        const frame = buf.subarray(4, 4 + size);
        buf = buf.subarray(4 + size);
        chain = chain.then(async () => {
          if (dropped) return;
          let api = -1, version = -1, correlation = 0;
          try {
            const r = new Reader(frame);
            api = r.int16();
            version = r.int16();
            correlation = r.int32();
            const clientId = r.nullableString() ?? '';
            m.requests.inc({ api: API_NAMES[api] ?? String(api) });
            const range = VERSIONS[api];
            if (!range) return drop('unknown_api', `API key ${api}`);
            let body: Writer | null;
            if (version < range[0] || version > range[1]) {
              m.errors.inc({ reason: 'unsupported_version' });
              if (api !== 18) return drop('unsupported_version', `${API_NAMES[api]} v${version} (supported ${range[0]}–${range[1]})`);
              // KIP-511: ApiVersions of an unknown version is answered in v0 form with the supported list.
              body = new Writer().int16(E.UNSUPPORTED_VERSION).array(Object.entries(VERSIONS), (x, [k, [lo, hi]]) => x.int16(Number(k)).int16(lo).int16(hi));
            } else {
              const t0 = Date.now();
              body = await handle(api, version, r, clientId, remote);
              if (Date.now() - t0 > 10_000 && api !== 1) log.warn({ api: API_NAMES[api], ms: Date.now() - t0, clientId, remote }, 'slow request');
            }
            if (body === null || sock.destroyed) return;
            const out = new Writer().int32(correlation).raw(body.toBuffer()).frame();
            m.bytesOut.inc(out.length);
            sock.write(out);
          } catch (err) {
            if (err instanceof WireError || err instanceof RangeError) return drop('malformed_request', `${API_NAMES[api] ?? api} v${version}: ${(err as Error).message}`);
            log.error({ remote, api, err: (err as Error).stack }, 'request failed');
            return drop('internal_error', (err as Error).message);
          }
        });
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      sockets.delete(sock);
      m.connections.dec();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // One clear line naming the port and the flag that changes it (the storage opened above is closed by the exit).
      if (err.code === 'EADDRINUSE') reject(new UserError(`port ${opts.port ?? 9092} on ${host} is in use (another broker or smartcar up?); choose another with ${opts.portFlag ?? '--port'} (0 = any free port)`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new UserError(`cannot listen on ${host}: no such local address (--host)`));
      else if (err.code === 'EACCES') reject(new UserError(`not allowed to listen on ${host}:${opts.port ?? 9092} (ports below 1024 need root); choose another with ${opts.portFlag ?? '--port'}`));
      else reject(err);
    });
    server.listen(opts.port ?? 9092, host, () => resolve());
  });
  port = (server.address() as net.AddressInfo).port;
  log.info({ host, port, data: opts.dataDir, topics: storage.topics.size }, 'broker listening');
  return {
    host,
    port,
    async close() {
      clearInterval(flushTimer);
      clearInterval(retentionTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      for (const logs of storage.topics.values()) for (const l of logs) { l.flush(); l.close(); }
      groups.close();
    },
  };
}
