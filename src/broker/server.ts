/**
 * The embedded broker: a single node speaking the Kafka wire protocol on TCP. This file is the
 * listener and the connection loop; each API's request and response live in api/<name>.ts, the topics
 * in storage.ts, the consumer groups in groups.ts, the wire format in src/kafka.
 *
 * Advertised API versions (non-flexible encodings only; requests for other versions close the
 * connection, except ApiVersions, which answers in v0 form per KIP-511):
 *   Produce 3–5 · Fetch 4–6 · ListOffsets 1–2 · Metadata 0–5 · OffsetCommit 0–3 · OffsetFetch 1–3 ·
 *   FindCoordinator 0–1 · JoinGroup 0–2 · Heartbeat 0–1 · LeaveGroup 0–1 · SyncGroup 0–1 ·
 *   DescribeGroups 0–1 · ListGroups 0–1 · SaslHandshake 0–1 · ApiVersions 0–2 · CreateTopics 0–2 ·
 *   SaslAuthenticate 0–1
 *
 * Each connection's requests are handled one at a time and answered in order, as Kafka does.
 * Malformed frames, oversize requests and garbage bytes close that connection and are logged; every
 * other client is unaffected.
 *
 * With users configured (`users`), the listener needs SASL (PLAIN or SCRAM-SHA-256): until a connection has
 * authenticated, any request but ApiVersions, SaslHandshake and SaslAuthenticate closes it, as on a
 * Kafka SASL listener. A non-loopback address is refused without users.
 */
import fs from 'node:fs';
import net from 'node:net';
import { UserError } from '../core/index.ts';
import { createLogger } from '../core/index.ts';
import { isLoopback } from '../core/index.ts';
import { API, apiName, E, isValidTopicName, Reader, WireError, Writer } from '../kafka/index.ts';
import { encodeApiVersions, HANDLERS, VERSIONS, type BrokerState, type Connection } from './api/index.ts';
import { Coordinator } from './groups.ts';
import type { PartitionLog } from './log.ts';
import { m } from './metrics.ts';
import { Authenticator, SaslAuthError } from './sasl.ts';
import { Storage } from './storage.ts';

const log = createLogger('broker');

export { VERSIONS };

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
  /** user → password: the listener needs SASL authentication (credentials.ts reads them). */
  users?: ReadonlyMap<string, string>;
}

export interface Broker {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** APIs a connection may send before it has authenticated. */
const BEFORE_AUTH = new Set<number>([API.ApiVersions, API.SaslHandshake, API.SaslAuthenticate]);

export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const host = opts.host ?? '127.0.0.1';
  const users = opts.users?.size ? opts.users : undefined;
  // Secure by default: another host may reach the broker only with credentials.
  if (!isLoopback(host) && !users) {
    throw new UserError(`--host ${host} would let other hosts reach the broker without credentials: set SMARTCAR_BROKER_PASSWORD (and SMARTCAR_BROKER_USER, default smartcar) or --sasl-users FILE, or bind 127.0.0.1`);
  }
  const defaultPartitions = opts.defaultPartitions ?? 4;
  const autoCreate = opts.autoCreateTopics ?? true;
  const maxRequest = opts.maxRequestBytes ?? 100 * 1024 * 1024;
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const storage = new Storage(opts.dataDir, {
    segmentBytes: opts.segmentBytes ?? 256 * 1024 * 1024,
    retentionMs: opts.retentionMs ?? 7 * 24 * 3600_000,
    retentionBytes: opts.retentionBytes ?? -1,
  }, log);
  const groups = new Coordinator(opts.dataDir);

  // A full disk: answered KAFKA_STORAGE_ERROR (producers retry) while it lasts, said once in the log.
  let storageFailing = false;
  const state: BrokerState = {
    storage, groups, log, nodeId: 0, port: opts.port ?? 9092, defaultPartitions,
    storageFailed(err) {
      m.errors.inc({ reason: 'storage' });
      m.diskFull.set(1);
      if (!storageFailing) log.error({ code: err.code, err: err.message }, 'the log cannot be written (disk full?): produce requests are refused with KAFKA_STORAGE_ERROR until a write succeeds; nothing was stored of them');
      storageFailing = true;
    },
    storageOk() {
      if (!storageFailing) return;
      storageFailing = false;
      m.diskFull.set(0);
      log.info('the log can be written again; producing resumed');
    },
    fsyncAcks: (opts.flush ?? 'always') === 'always',
    auth: users ? new Authenticator(users, log) : undefined,
    ensureTopic(t, create) {
      const l = storage.topics.get(t);
      if (l || !create || !autoCreate || !isValidTopicName(t)) return l;
      storage.create(t, defaultPartitions);
      log.info({ topic: t, partitions: defaultPartitions }, 'topic auto-created');
      return storage.topics.get(t) as PartitionLog[];
    },
  };

  const flushTimer = setInterval(() => {
    for (const logs of storage.topics.values()) for (const l of logs) try { l.flush(); } catch (err) { log.error({ err: String(err) }, 'flush failed'); }
  }, 1000);
  flushTimer.unref();
  const retentionTimer = setInterval(() => {
    for (const [t, logs] of storage.topics) logs.forEach((l, p) => { const n = l.retain(Date.now()); if (n) log.info({ topic: t, partition: p, segments: n }, 'retention removed old segments'); });
  }, 60_000);
  retentionTimer.unref();

  // A wildcard bind names, to each client, the address that client reached it on.
  const wildcard = host === '0.0.0.0' || host === '::';
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    m.connections.inc();
    const conn: Connection = {
      remote: `${sock.remoteAddress}:${sock.remotePort}`,
      advertisedHost: wildcard ? (sock.localAddress ?? host).replace(/^::ffff:/, '') : host,
      authenticated: !state.auth, rawSasl: false, closeAfterResponse: false,
    };
    const remote = conn.remote;
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
    const send = (out: Buffer) => {
      m.bytesOut.inc(out.length);
      sock.write(out);
      if (conn.closeAfterResponse) {
        dropped = true;
        sock.end();
      }
    };
    /** After SaslHandshake v0: a frame is one bare SASL token, answered by one bare token. */
    const rawToken = (token: Buffer) => {
      const session = conn.sasl!;
      try {
        const step = session.step(token);
        if (step.done) {
          conn.authenticated = true;
          conn.sasl = undefined;
          conn.rawSasl = false;
          state.auth!.succeeded(session, remote, step.user);
        }
        send(new Writer().raw(step.response).frame());
      } catch (err) {
        if (!(err instanceof SaslAuthError)) throw err;
        state.auth!.failed(session, remote, err);
        dropped = true;
        sock.destroy();
      }
    };
    sock.on('data', (chunk: Buffer) => {
      m.bytesIn.inc(chunk.length);
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0);
        if (size < (conn.rawSasl ? 0 : 8) || size > maxRequest) return drop('bad_frame', `frame size ${size} (max ${maxRequest})`);
        if (buf.length < 4 + size) break;
        const frame = buf.subarray(4, 4 + size);
        buf = buf.subarray(4 + size);
        chain = chain.then(async () => {
          if (dropped) return;
          if (conn.rawSasl) return rawToken(frame);
          let api = -1, version = -1, correlation = 0;
          try {
            const r = new Reader(frame);
            api = r.int16();
            version = r.int16();
            correlation = r.int32();
            const clientId = r.nullableString() ?? '';
            m.requests.inc({ api: apiName(api) });
            const handler = HANDLERS.get(api);
            if (!handler) return drop('unknown_api', `API key ${api}`);
            if (!conn.authenticated && !BEFORE_AUTH.has(api)) return drop('unauthenticated', `${apiName(api)} before SASL authentication (client '${clientId}')`);
            const [lo, hi] = handler.versions;
            let body: Writer | null;
            if (version < lo || version > hi) {
              m.errors.inc({ reason: 'unsupported_version' });
              if (api !== API.ApiVersions) return drop('unsupported_version', `${apiName(api)} v${version} (supported ${lo}–${hi})`);
              body = encodeApiVersions(VERSIONS, E.UNSUPPORTED_VERSION, 0);
            } else {
              const t0 = Date.now();
              body = await handler.handle({ version, r, clientId, conn }, state);
              if (Date.now() - t0 > 10_000 && api !== API.Fetch) log.warn({ api: apiName(api), ms: Date.now() - t0, clientId, remote }, 'slow request');
            }
            if (body === null || sock.destroyed) return;
            send(new Writer().int32(correlation).raw(body.toBuffer()).frame());
          } catch (err) {
            if (err instanceof WireError || err instanceof RangeError) return drop('malformed_request', `${apiName(api)} v${version}: ${(err as Error).message}`);
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
  const port = (server.address() as net.AddressInfo).port;
  state.port = port;
  log.info({ host, port, data: opts.dataDir, topics: storage.topics.size, sasl: state.auth ? state.auth.mechanisms : 'none' }, 'broker listening');
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
