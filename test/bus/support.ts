import net from 'node:net';
import { Reader, Writer } from '../../src/kafka/index.ts';
import type { Bus, ConsumedRecord } from '../../src/bus/index.ts';

/** Reads `n` records of `topic` from the beginning with the bus consumer (kafkajs), in a fresh group. */
export async function readAll(bus: Bus, topic: string, n: number, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  const got: ConsumedRecord[] = [];
  const c = await bus.consumer({ groupId: `read-${topic}-${Math.random().toString(36).slice(2)}`, topics: [topic] });
  const run = c.run(async (b) => { got.push(...b.records); });
  const deadline = Date.now() + timeoutMs;
  while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // A little longer: more than expected would be a bug too.
  await new Promise((r) => setTimeout(r, 300));
  await c.stop();
  await run;
  return got;
}

export type ProduceBehaviour = number | 'hang' | 'drop' | 'garbage';

/**
 * A scripted Kafka-protocol broker for faults the embedded broker cannot produce for real (a leader that
 * moved, a partition error, a broker that goes silent or drops the connection mid-request): it answers
 * ApiVersions and Metadata like a one-node cluster, and each Produce with what `produce(n)` says for the
 * n-th Produce request (an error code for every partition, 'hang' to never answer, 'drop' to close,
 * 'garbage' for a truncated response).
 */
export interface ScriptedCluster {
  /** The cluster's nodes (node id = index) as Metadata lists them; default: this broker alone as node 0. */
  nodes?: () => number[];
  /** Leader node of a partition; default 0. */
  leader?: (partition: number) => number;
}

export async function scriptedBroker(partitions: number, produce: (n: number) => ProduceBehaviour, cluster: ScriptedCluster = {}): Promise<{ port: number; produced: number; producedPartitions: number[]; metadata: number; close(): Promise<void> }> {
  const state = { port: 0, produced: 0, producedPartitions: [] as number[], metadata: 0, close: async () => {} };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const r = new Reader(buf.subarray(4, 4 + buf.readInt32BE(0)));
        buf = buf.subarray(4 + buf.readInt32BE(0));
        const api = r.int16(), v = r.int16(), corr = r.int32();
        r.nullableString();
        const w = new Writer().int32(corr);
        if (api === 18) {
          w.int16(0).array([[0, 3, 7], [3, 1, 5], [18, 0, 2]], (x, [k, lo, hi]) => x.int16(k).int16(lo).int16(hi));
        } else if (api === 3) {
          state.metadata++;
          const topics = r.array((x) => x.string()) ?? [];
          if (v >= 3) w.int32(0);
          w.array((cluster.nodes?.() ?? [state.port]).map((port, id) => [id, port]), (x, [id, port]) => x.int32(id).string('127.0.0.1').int32(port).string(null));
          if (v >= 2) w.string(null);
          w.int32(0);
          w.array(topics, (x, t) => x.int16(0).string(t).bool(false).array(Array.from({ length: partitions }, (_, i) => i), (y, p) => {
            const leader = cluster.leader?.(p) ?? 0;
            y.int16(0).int32(p).int32(leader).array([leader], (z, n) => z.int32(n)).array([leader], (z, n) => z.int32(n));
            if (v >= 5) y.array([], () => {});
          }));
        } else if (api === 0) {
          const what = produce(state.produced++);
          r.nullableString();
          const acks = r.int16();
          r.int32();
          const data = r.array((x) => ({ name: x.string(), parts: x.array((y) => { const p = y.int32(); y.bytes(); return p; }) ?? [] })) ?? [];
          for (const t of data) state.producedPartitions.push(...t.parts);
          if (what === 'hang' || acks === 0) continue;
          if (what === 'drop') { sock.destroy(); return; }
          if (what === 'garbage') { sock.write(w.int32(1).int16(3).frame()); continue; }
          w.array(data, (x, t) => x.string(t.name).array(t.parts, (y, p) => { y.int32(p).int16(what).int64(what ? -1n : 0n).int64(-1n); if (v >= 5) y.int64(0n); }));
          w.int32(0);
        } else {
          sock.destroy();
          return;
        }
        sock.write(w.frame());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); });
  return state;
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
