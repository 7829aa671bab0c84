/** Interop with librdkafka through kcat (Debian package `kcat`), a client nobody here wrote. */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../src/broker/index.ts';
import { runAsync, tmp } from './support.ts';
import { needTool } from '../support/require.ts';

const hasKcat = needTool('kcat', ['-V'], 'the broker\'s interop tests with librdkafka');
let broker: Broker;
let addr: string;
/** kcat, asynchronously: the broker runs in this process and must keep answering while kcat runs. */
const kcat = (args: string[], input?: string) => runAsync('kcat', ['-b', addr, ...args], { input });

describe.skipIf(!hasKcat)('the broker with kcat (librdkafka)', () => {
  beforeAll(async () => {
    broker = await startBroker({ dataDir: tmp('kcat'), port: 0, defaultPartitions: 3 });
    addr = `127.0.0.1:${broker.port}`;
  });
  afterAll(() => broker?.close());

  it('lists metadata, produces keyed lines and consumes them from the beginning', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `A${String(i % 20).padStart(4, '0')}:record-${i}`);
    const p = await kcat(['-t', 'SmartCar-Topic', '-P', '-K:'], lines.join('\n') + '\n');
    expect(p.status, p.stderr).toBe(0);
    const meta = await kcat(['-L']);
    expect(meta.stdout).toContain('broker 0 at 127.0.0.1');
    expect(meta.stdout).toMatch(/topic "SmartCar-Topic" with 3 partitions/);
    const c = await kcat(['-t', 'SmartCar-Topic', '-C', '-o', 'beginning', '-e', '-f', '%p|%k|%s\\n']);
    expect(c.status, c.stderr).toBe(0);
    const got = c.stdout.trim().split('\n');
    expect(got.map((l) => l.split('|').slice(1).join(':')).sort()).toEqual([...lines].sort());
    // One car, one partition.
    const byCar = new Map<string, Set<string>>();
    for (const l of got) {
      const [part, key] = l.split('|');
      if (!byCar.has(key)) byCar.set(key, new Set());
      byCar.get(key)!.add(part);
    }
    for (const parts of byCar.values()) expect(parts.size).toBe(1);
  });


  it('balances a consumer group, commits offsets, and resumes after a restart without re-reading', async () => {
    const values = Array.from({ length: 200 }, (_, i) => `g${i}`);
    expect((await kcat(['-t', 'grouped', '-P'], values.join('\n') + '\n')).status).toBe(0);
    // Not `-o beginning`: with -G, kcat assigns that explicit offset and ignores committed ones.
    // Each run is stopped on a condition, never a clock: the first once it has read every value, the second once it
    // has read a sentinel from every partition, which proves it joined, was assigned all three partitions, and read
    // each from its committed offset up to the sentinel (a re-read value would come before it).
    const member = () => {
      const p = spawn('kcat', ['-b', addr, '-u', '-G', 'kcat-group', '-X', 'auto.offset.reset=earliest', '-X', 'auto.commit.interval.ms=100', '-f', '%s\\n', 'grouped'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = ''; // -u: unbuffered output, so a line is seen as soon as kcat has it
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
      const lines = () => out.split('\n').filter(Boolean);
      return {
        lines,
        async until(what: string, done: (got: string[]) => boolean): Promise<void> {
          const deadline = Date.now() + 45_000;
          while (!done(lines())) {
            if (Date.now() > deadline || p.exitCode !== null) throw new Error(`kcat group member: no ${what}; read ${lines().length} lines; stderr: ${err.slice(-400)}`);
            await new Promise((r) => setTimeout(r, 25));
          }
        },
        async stop(): Promise<string[]> { p.kill('SIGINT'); await exited; return lines(); },
      };
    };
    const first = member();
    await first.until('full read of the 200 values', (got) => new Set(got).size === values.length);
    expect(new Set(await first.stop())).toEqual(new Set(values));
    expect((await kcat(['-t', 'grouped', '-P'], 'late-1\nlate-2\n')).status).toBe(0);
    const second = member();
    await second.until('late values', (got) => got.includes('late-1') && got.includes('late-2'));
    for (const part of [0, 1, 2]) expect((await kcat(['-t', 'grouped', '-P', '-p', String(part)], `sentinel-${part}\n`)).status).toBe(0);
    await second.until('sentinel from every partition', (got) => [0, 1, 2].every((part) => got.includes(`sentinel-${part}`)));
    const got = (await second.stop()).filter((v) => !v.startsWith('sentinel-'));
    expect(got.sort()).toEqual(['late-1', 'late-2']);
  }, 120_000);
});
