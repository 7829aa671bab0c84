/**
 * Fuzzing the request decoder with real sockets: random bytes, random frames, and valid requests with
 * random mutations. The broker must answer or close the connection, never crash, and keep serving a
 * well-behaved client. FUZZ_ITERATIONS raises the count (CI runs the short form).
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../../src/broker/index.ts';
import { Writer } from '../../src/kafka/index.ts';
import { VERSIONS } from '../../src/broker/index.ts';
import { tmp } from './support.ts';

const N = Number(process.env.FUZZ_ITERATIONS ?? 400);

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

function send(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = () => { s.destroy(); resolve(); };
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => { s.write(bytes); setTimeout(done, 20); });
  });
}

describe('request decoder fuzz', () => {
  it(`survives ${N} malformed inputs and keeps serving`, async () => {
    const broker = await startBroker({ dataDir: tmp('fuzz'), port: 0 });
    const r = rng(42);
    const apis = [...VERSIONS.keys()];
    try {
      for (let i = 0; i < N; i++) {
        const kind = i % 3;
        let bytes: Buffer;
        if (kind === 0) {
          bytes = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256)));
        } else {
          const api = apis[Math.floor(r() * apis.length)];
          const [lo, hi] = VERSIONS.get(api)!;
          const w = new Writer().int16(api).int16(lo + Math.floor(r() * (hi - lo + 2))).int32(i).string('fuzz');
          const body = Buffer.from(Array.from({ length: Math.floor(r() * 120) }, () => Math.floor(r() * 256)));
          if (kind === 2) { // plausible prefixes: a few int32 counts and strings
            w.int32(Math.floor(r() * 3)).string('SmartCar-Topic').int32(Math.floor(r() * 4) - 1);
          }
          w.raw(body);
          bytes = w.frame();
          if (r() < 0.2) bytes.writeInt32BE(Math.floor(r() * 2 ** 31), 0); // lying frame size
        }
        await send(broker.port, bytes);
      }
      const k = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
      const p = k.producer();
      await p.connect();
      await p.send({ topic: 'after-fuzz', messages: [{ value: 'still here' }] });
      await p.disconnect();
      const a = k.admin();
      await a.connect();
      expect(await a.listTopics()).toContain('after-fuzz');
      await a.disconnect();
    } finally {
      await broker.close();
    }
  });
});
