/**
 * SASL on the broker, driven by clients nobody here wrote: kcat (librdkafka) and kafkajs, with PLAIN
 * and SCRAM-SHA-256; then the project's own bus (native producer + kafkajs consumer), and the bare
 * SaslHandshake v0 token exchange written out byte by byte.
 */
import net from 'node:net';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { createBus, ProduceError } from '../../src/bus/index.ts';
import { saslFromEnv } from '../../src/kafka/index.ts';
import { metricsText } from '../../src/core/metrics.ts';
import { runAsync, tmp } from './support.ts';
import { needTool } from '../support/require.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const hasKcat = needTool('kcat', ['-V'], 'the broker\'s SASL tests with librdkafka');
const USERS = new Map([['alice', 'wonder-land'], ['bob', 'p,a=ss']]);
let broker: Broker;
let addr: string;

beforeAll(async () => {
  broker = await startBroker({ dataDir: tmp('sasl'), port: 0, defaultPartitions: 2, users: USERS });
  addr = `127.0.0.1:${broker.port}`;
});
afterAll(() => broker?.close());

/** kcat, asynchronously: the broker runs in this process and must keep answering while kcat runs. */
const kcat = (args: string[], input?: string) => runAsync('kcat', ['-b', addr, ...args], { input });
const sasl = (mechanism: string, user: string, password: string) => [
  '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`,
];

describe.skipIf(!hasKcat)('SASL with kcat (librdkafka)', () => {
  for (const mech of ['PLAIN', 'SCRAM-SHA-256']) {
    it(`produces and consumes with ${mech}`, async () => {
      const topic = `kcat-${mech.toLowerCase()}`;
      const lines = Array.from({ length: 50 }, (_, i) => `${mech}-${i}`);
      const p = await kcat([...sasl(mech, 'alice', 'wonder-land'), '-t', topic, '-P'], lines.join('\n') + '\n');
      expect(p.status, p.stderr).toBe(0);
      // bob's password has ',' and '=': SCRAM's saslname escaping (=2C, =3D) is only in the user name, the password goes in raw.
      const c = await kcat([...sasl(mech, 'bob', 'p,a=ss'), '-t', topic, '-C', '-o', 'beginning', '-e', '-f', '%s\\n']);
      expect(c.status, c.stderr).toBe(0);
      expect(c.stdout.trim().split('\n').sort()).toEqual([...lines].sort());
    }, 60_000);

    it(`refuses a wrong ${mech} password with an authentication error`, async () => {
      const r = await kcat([...sasl(mech, 'alice', 'not-it'), '-L', '-m', '3']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/Authentication failed: Invalid username or password/);
    }, 30_000);
  }

  it('refuses an unknown user', async () => {
    const r = await kcat([...sasl('PLAIN', 'mallory', 'wonder-land'), '-L', '-m', '3']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Authentication failed/);
  }, 30_000);

  it('closes the connection of a client without credentials', async () => {
    const r = await kcat(['-L', '-m', '3']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Disconnected|might require SASL|transport failure|Timed out/i);
    expect(r.stdout).not.toMatch(/topic "/);
  }, 30_000);
});

describe('SASL with kafkajs', () => {
  const client = (o: Partial<ConstructorParameters<typeof Kafka>[0]> = {}) =>
    new Kafka({ brokers: [addr], clientId: 'sasl-test', logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50 }, connectionTimeout: 2000, ...o });

  for (const mechanism of ['plain', 'scram-sha-256'] as const) {
    it(`produces and consumes with ${mechanism}`, async () => {
      const kafka = client({ sasl: { mechanism, username: 'alice', password: 'wonder-land' } as SASLOptions });
      const topic = `kafkajs-${mechanism}`;
      const p = kafka.producer();
      await p.connect();
      await p.send({ topic, messages: [{ key: 'A0001', value: 'one' }, { key: 'B0002', value: 'two' }] });
      await p.disconnect();
      const c = kafka.consumer({ groupId: `g-${mechanism}`, sessionTimeout: 6000, heartbeatInterval: 500 });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      const got: string[] = [];
      await c.run({ eachMessage: async ({ message }) => { got.push(String(message.value)); } });
      while (got.length < 2) await new Promise((r) => setTimeout(r, 50));
      await c.disconnect();
      expect(got.sort()).toEqual(['one', 'two']);
    }, 60_000);

    it(`refuses a wrong ${mechanism} password`, async () => {
      const admin = client({ sasl: { mechanism, username: 'alice', password: 'nope' } as SASLOptions }).admin();
      await expect(admin.connect()).rejects.toThrow(/Authentication failed|SASL/i);
    }, 30_000);
  }

  it('refuses a client that sends no credentials', async () => {
    const admin = client().admin();
    await expect(admin.connect().then(() => admin.listTopics())).rejects.toThrow();
    await admin.disconnect();
  }, 30_000);
});

describe('SASL with the bus', () => {
  it.each(['PLAIN', 'SCRAM-SHA-256'] as const)('%s: produces with the native producer and consumes with the bus consumer', async (mechanism) => {
    const bus = createBus({ brokers: [addr], sasl: { mechanism, user: 'bob', password: 'p,a=ss' } });
    const topic = `bus-sasl-${mechanism.toLowerCase()}`;
    try {
      const p = await bus.producer();
      await p.send(topic, Array.from({ length: 20 }, (_, i) => ({ key: `A${i}`, value: `v${i}` })));
      const c = await bus.consumer({ groupId: `g-${topic}`, topics: [topic] });
      const got: string[] = [];
      const run = c.run(async (b) => { for (const r of b.records) got.push(r.value.toString()); });
      while (got.length < 20) await new Promise((r) => setTimeout(r, 50));
      await c.stop();
      await run;
      expect(got.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`).sort());
    } finally {
      await bus.close();
    }
  }, 60_000);

  it.each(['PLAIN', 'SCRAM-SHA-256'] as const)('%s: a wrong password fails the producer at once, naming the user, without retrying', async (mechanism) => {
    const bus = createBus({ brokers: [addr], sasl: { mechanism, user: 'alice', password: 'wrong' } });
    const t0 = Date.now();
    const err = await bus.producer().catch((e: unknown) => e);
    await bus.close();
    expect(err).toBeInstanceOf(ProduceError);
    expect((err as ProduceError).errorName).toBe('SASL_AUTHENTICATION_FAILED');
    expect((err as Error).message).toMatch(/refused the credentials of user 'alice': Authentication failed: Invalid username or password/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('the bus takes the platform\'s credentials from SMARTCAR_BROKER_USER / SMARTCAR_BROKER_PASSWORD (SCRAM-SHA-256 unless SMARTCAR_BROKER_MECHANISM says PLAIN)', async () => {
    const before = await authentications();
    const keys = ['SMARTCAR_BROKER_USER', 'SMARTCAR_BROKER_PASSWORD', 'SMARTCAR_BROKER_MECHANISM'] as const;
    const saved = keys.map((k) => process.env[k]);
    process.env.SMARTCAR_BROKER_USER = 'bob';
    process.env.SMARTCAR_BROKER_PASSWORD = 'p,a=ss';
    try {
      expect(saslFromEnv()?.mechanism).toBe('SCRAM-SHA-256');
      for (const mech of ['', 'PLAIN']) {
        process.env.SMARTCAR_BROKER_MECHANISM = mech;
        const bus = createBus({ brokers: [addr] });
        const p = await bus.producer();
        await p.send('bus-env', [{ value: 'x' }]);
        await bus.close();
      }
      process.env.SMARTCAR_BROKER_MECHANISM = 'GSSAPI';
      expect(() => createBus({ brokers: [addr] })).toThrow(/SMARTCAR_BROKER_MECHANISM must be PLAIN or SCRAM-SHA-256, got 'GSSAPI'/);
    } finally {
      keys.forEach((k, i) => { if (saved[i] === undefined) delete process.env[k]; else process.env[k] = saved[i]; });
    }
    // The broker saw one of each (its counter, read from this process's registry: the broker runs in it).
    const after = await authentications();
    expect(after['SCRAM-SHA-256'] - before['SCRAM-SHA-256']).toBe(1);
    expect(after.PLAIN - before.PLAIN).toBe(1);
    // Without them, the broker closes the connection at the first request past ApiVersions (Metadata).
    const bare = createBus({ brokers: [addr] });
    const p = await bare.producer({ retries: 0 });
    await expect(p.send('bus-env', [{ value: 'y' }])).rejects.toThrow(/closed/);
    await bare.close();
  }, 30_000);
});

describe.skipIf(!hasKcat)('a wildcard bind with credentials', () => {
  it('names, to each client, the address it reached the broker on', async () => {
    const wild = await startBroker({ host: '0.0.0.0', dataDir: tmp('wild'), port: 0, users: USERS });
    try {
      const r = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const p = spawn('kcat', ['-b', `127.0.0.1:${wild.port}`, ...sasl('PLAIN', 'alice', 'wonder-land'), '-L', '-m', '10'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let stdout = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.on('exit', (status) => resolve({ status, stdout }));
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`broker 0 at 127.0.0.1:${wild.port}`);
    } finally {
      await wild.close();
    }
  }, 30_000);

  it('refuses a wildcard bind without credentials', async () => {
    await expect(startBroker({ host: '0.0.0.0', dataDir: tmp('wild-refused'), port: 0 })).rejects.toThrow(/--host 0\.0\.0\.0 would let other hosts reach the broker without credentials/);
  });
});

describe('SASL refused to a platform command', () => {
  it('smartcar stream with a wrong SMARTCAR_BROKER_PASSWORD: one line naming the user and the variables, exit code 2', async () => {
    const env = { ...process.env, SMARTCAR_BROKER_USER: 'alice', SMARTCAR_BROKER_PASSWORD: 'wrong', SMARTCAR_LOG_LEVEL: 'silent' };
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['bin/smartcar.js', 'stream', '--data', tmp('stream-sasl'), '--kafka', addr], { stdio: ['ignore', 'ignore', 'pipe'], env });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.on('exit', (status) => { clearTimeout(timer); resolve({ status, stderr }); });
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`smartcar: broker ${addr} refused the credentials of user 'alice': Authentication failed: Invalid username or password; check SMARTCAR_BROKER_USER / SMARTCAR_BROKER_PASSWORD`]);
  }, 60_000);
});

async function authentications(): Promise<Record<'PLAIN' | 'SCRAM-SHA-256', number>> {
  const text = await metricsText();
  const get = (mech: string) => Number(new RegExp(`^smartcar_broker_authentications_total\\{mechanism="${mech}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { PLAIN: get('PLAIN'), 'SCRAM-SHA-256': get('SCRAM-SHA-256') };
}

/** One frame by hand: int32 size, then the parts. */
const frame = (...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  const n = Buffer.alloc(4);
  n.writeInt32BE(body.length);
  return Buffer.concat([n, body]);
};
const i16 = (v: number) => { const b = Buffer.alloc(2); b.writeInt16BE(v); return b; };
const i32 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };
const str = (s: string) => Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]);
/** Request header v1: api_key api_version correlation_id client_id. */
const header = (api: number, version: number, corr: number) => Buffer.concat([i16(api), i16(version), i32(corr), str('by-hand')]);

/** A socket that collects whole frames, and says when it was closed. */
function rawClient(): Promise<{ send(b: Buffer): void; next(): Promise<Buffer>; closed: Promise<void>; end(): void }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: broker.port });
    let buf = Buffer.alloc(0);
    const frames: Buffer[] = [];
    const waiting: ((b: Buffer) => void)[] = [];
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const f = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + f.length);
        const w = waiting.shift();
        if (w) w(f); else frames.push(f);
      }
    });
    s.on('error', () => {});
    s.once('connect', () => resolve({
      send: (b) => s.write(b),
      next: () => (frames.length ? Promise.resolve(frames.shift()!) : new Promise((r) => waiting.push(r))),
      closed,
      end: () => s.destroy(),
    }));
    s.once('error', reject);
  });
}
const plainToken = (u: string, p: string) => Buffer.from(`\0${u}\0${p}`);
/** A good client still gets in (kafkajs, SCRAM). */
async function kafkaOk(): Promise<boolean> {
  const admin = new Kafka({ brokers: [addr], clientId: 'after-fuzz', logLevel: logLevel.NOTHING, sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'wonder-land' } }).admin();
  await admin.connect();
  await admin.listTopics();
  await admin.disconnect();
  return true;
}
const METADATA_V1_ALL = () => frame(header(3, 1, 7), i32(-1));

describe('SASL by hand', () => {
  it('SaslHandshake v0, then a bare PLAIN token: authenticated, then Metadata is answered', async () => {
    const c = await rawClient();
    c.send(frame(header(17, 0, 1), str('PLAIN')));
    const hs = await c.next();
    expect(hs.readInt32BE(0)).toBe(1);
    expect(hs.readInt16BE(4)).toBe(0);
    const n = hs.readInt32BE(6);
    const mechs: string[] = [];
    for (let i = 0, o = 10; i < n; i++) { const l = hs.readInt16BE(o); mechs.push(hs.toString('utf8', o + 2, o + 2 + l)); o += 2 + l; }
    expect(mechs).toEqual(['PLAIN', 'SCRAM-SHA-256']);
    c.send(frame(plainToken('alice', 'wonder-land')));
    expect((await c.next()).length).toBe(0); // PLAIN's server token is empty
    c.send(METADATA_V1_ALL());
    const md = await c.next();
    expect(md.readInt32BE(0)).toBe(7);
    c.end();
  });

  it('SaslHandshake v0 with a wrong password: the connection is closed', async () => {
    const c = await rawClient();
    c.send(frame(header(17, 0, 1), str('PLAIN')));
    await c.next();
    c.send(frame(plainToken('alice', 'nope')));
    await c.closed;
  });

  it('a request other than ApiVersions / SaslHandshake / SaslAuthenticate before authenticating closes the connection unanswered', async () => {
    const c = await rawClient();
    let answered = false;
    void c.next().then(() => (answered = true));
    c.send(METADATA_V1_ALL());
    await c.closed;
    expect(answered).toBe(false);
  });

  it('ApiVersions is answered before authenticating and lists SaslHandshake 0–1 and SaslAuthenticate 0–1', async () => {
    const c = await rawClient();
    c.send(frame(header(18, 0, 3)));
    const r = await c.next();
    expect(r.readInt16BE(4)).toBe(0);
    const apis = new Map<number, [number, number]>();
    for (let i = 0, n = r.readInt32BE(6), o = 10; i < n; i++, o += 6) apis.set(r.readInt16BE(o), [r.readInt16BE(o + 2), r.readInt16BE(o + 4)]);
    expect(apis.get(17)).toEqual([0, 1]);
    expect(apis.get(36)).toEqual([0, 1]);
    c.end();
  });

  it('survives garbage tokens after each mechanism\'s handshake, and keeps admitting good clients', async () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 60; i++) {
      const c = await rawClient();
      c.send(frame(header(17, 1, 1), str(i % 2 ? 'PLAIN' : 'SCRAM-SHA-256')));
      await c.next();
      const junk = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
      const bytes = Buffer.concat([i32(junk.length), junk]);
      c.send(frame(header(36, 1, 2), bytes));
      const r = await c.next();
      expect(r.readInt16BE(4)).toBe(58); // SASL_AUTHENTICATION_FAILED
      await c.closed;
    }
    const ok = await kafkaOk();
    expect(ok).toBe(true);
  }, 60_000);

  it('SaslHandshake v1 and SaslAuthenticate v1 responses decode with kafkajs\'s own response decoders', async () => {
    const require = createRequire(import.meta.url);
    type Decoder = { decode(b: Buffer): Promise<Record<string, unknown>> };
    const hsDecoder = require('kafkajs/src/protocol/requests/saslHandshake/v1/response') as Decoder;
    const auDecoder = require('kafkajs/src/protocol/requests/saslAuthenticate/v1/response') as Decoder;
    for (const [password, error] of [['wonder-land', 0], ['nope', 58]] as const) {
      const c = await rawClient();
      c.send(frame(header(17, 1, 1), str('PLAIN')));
      const hs = await hsDecoder.decode((await c.next()).subarray(4));
      expect(hs).toEqual({ errorCode: 0, enabledMechanisms: ['PLAIN', 'SCRAM-SHA-256'] });
      c.send(frame(header(36, 1, 2), i32(plainToken('alice', password).length), plainToken('alice', password)));
      const au = await auDecoder.decode((await c.next()).subarray(4));
      expect(au.errorCode).toBe(error);
      expect(au.errorMessage).toBe(error ? 'Authentication failed: Invalid username or password' : null);
      expect(au.sessionLifetimeMs).toBe('0');
      c.end();
    }
  });

  it('an unknown mechanism is answered UNSUPPORTED_SASL_MECHANISM (33), then the connection is closed', async () => {
    const c = await rawClient();
    c.send(frame(header(17, 1, 4), str('GSSAPI')));
    const r = await c.next();
    expect(r.readInt16BE(4)).toBe(33);
    await c.closed;
  });
});
