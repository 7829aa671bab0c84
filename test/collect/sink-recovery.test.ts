import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { LakeSink, lakeSinkSchema } from '../../src/collect/sink/index.ts';
import { FileChannel } from '../../src/collect/channel/file.ts';
import { TestChannel, ev, sinkContext } from './support/test-channel.ts';

const roots: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-sink-recovery-'));
  roots.push(d);
  return d;
};
afterEach(() => {
  for (const d of roots.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const BASE = { 'hdfs.path': 'r/%{part}', 'hdfs.batchSize': '10', 'hdfs.rollCount': '0', 'hdfs.rollSize': '0', 'hdfs.rollInterval': '0', 'hdfs.timeZone': 'UTC' };
const events = (n: number, part: string, from = 0) => Array.from({ length: n }, (_, i) => ev(`${part}-${i + from}`, { part }));

/** A sink over a channel persisted to `<root>/channel.json`; call again after a "crash" to restart both. */
async function boot(root: string, props: Record<string, unknown> = {}, name = 'k1') {
  const channel = new TestChannel('c1', 1_000_000, path.join(root, 'channel.json'));
  await channel.start();
  const s = new LakeSink(lakeSinkSchema.parse({ ...BASE, ...props }), channel, sinkContext(root, name));
  return { s, channel };
}

/** Waits for a condition; the deadline is generous (a child's start-up on a loaded 2-core machine included). */
const until = async (cond: () => boolean, ms = 180_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const files = (root: string) => (fs.readdirSync(path.join(root, 'lake'), { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, 'lake', f)).isFile()).sort();
const content = (root: string) => files(root).flatMap((f) => {
  const raw = fs.readFileSync(path.join(root, 'lake', f));
  return (f.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString().split('\n').filter(Boolean);
});
const drain = async (s: LakeSink) => {
  while (await s.process());
  await s.stop();
};

describe('lake sink: recovery from crash states (exactly once)', () => {
  it('truncates an in-use file written past its committed length, renames it, and the rest arrives once', async () => {
    for (const gz of [false, true]) {
      const root = tmp();
      const props = gz ? { 'hdfs.fileType': 'CompressedStream', 'hdfs.codeC': 'gzip' } : {};
      const a = await boot(root, props);
      await a.channel.add(events(25, 'p'));
      await a.s.start();
      expect(await a.s.process()).toBe(10);
      const [open] = a.s.openFiles();
      const committed = fs.statSync(open.path).size;
      a.channel.hang = 'before-commit';
      void a.s.process(); // writes and fsyncs batch 2, then "crashes" before the commit
      await until(() => fs.statSync(open.path).size > committed);

      const b = await boot(root, props);
      await b.s.start();
      expect(b.s.lastRecovery!.truncated).toEqual([open.path]);
      expect(b.s.lastRecovery!.renamed).toEqual([open.final]);
      expect(fs.statSync(open.final).size).toBe(committed);
      expect(b.channel.size()).toBe(15);
      await drain(b.s);
      expect(content(root).sort()).toEqual(events(25, 'p').map((e) => e.body.toString()).sort());
    }
  });

  it('deletes an in-use file the marker does not know (a new directory), its events still in the channel', async () => {
    const root = tmp();
    const a = await boot(root);
    await a.channel.add([...events(10, 'A'), ...events(10, 'B')]);
    await a.s.start();
    expect(await a.s.process()).toBe(10);
    a.channel.hang = 'before-commit';
    void a.s.process();
    const bDir = path.join(root, 'lake', 'r', 'B');
    await until(() => fs.existsSync(bDir) && fs.readdirSync(bDir).length === 1 && fs.statSync(path.join(bDir, fs.readdirSync(bDir)[0])).size > 0);
    const orphan = path.join(bDir, fs.readdirSync(bDir)[0]);

    const b = await boot(root);
    await b.s.start();
    expect(b.s.lastRecovery!.deleted).toEqual([orphan]);
    expect(fs.readdirSync(bDir)).toEqual([]);
    expect(b.channel.size()).toBe(10);
    await drain(b.s);
    expect(content(root).sort()).toEqual([...events(10, 'A'), ...events(10, 'B')].map((e) => e.body.toString()).sort());
  });

  it('renames files that were committed but not yet renamed', async () => {
    const root = tmp();
    const a = await boot(root, { 'hdfs.rollCount': '5' });
    await a.channel.add(events(10, 'p'));
    await a.s.start();
    a.channel.hang = 'after-commit';
    void a.s.process(); // commits both full files, then "crashes" before renaming them
    await until(() => a.channel.size() === 0 && a.channel.commits > 1);
    expect(files(root).every((f) => f.endsWith('.tmp'))).toBe(true);

    const b = await boot(root, { 'hdfs.rollCount': '5' });
    await b.s.start();
    expect(b.s.lastRecovery!.renamed).toHaveLength(2);
    expect(b.s.lastRecovery!.deleted).toEqual([]);
    expect(files(root).map((f) => f.replace(/\d{13}/, 'N'))).toEqual(['r/p/FlumeData.N', 'r/p/FlumeData.N']);
    expect(content(root)).toEqual(events(10, 'p').map((e) => e.body.toString()));
    expect(await b.s.process()).toBe(0);
    await b.s.stop();
  });

  it('accepts a marker listing files already renamed (crash after the rename, before the next commit)', async () => {
    const root = tmp();
    const a = await boot(root, { 'hdfs.rollCount': '5' });
    await a.channel.add(events(10, 'p'));
    await a.s.start();
    await a.s.process(); // the marker lists both files; both are renamed after the commit
    expect(files(root).some((f) => f.endsWith('.tmp'))).toBe(false);

    const b = await boot(root, { 'hdfs.rollCount': '5' });
    await b.s.start();
    expect(b.s.lastRecovery).toEqual({ renamed: [], truncated: [], deleted: [], missing: [] });
    expect(content(root)).toEqual(events(10, 'p').map((e) => e.body.toString()));
    await b.s.stop();
  });

  it('leaves the in-use files of another sink in the same directory alone', async () => {
    const root = tmp();
    const other = await boot(root, {}, 'k2');
    await other.channel.add(events(3, 'p'));
    await other.s.start();
    await other.s.process(); // k2's file stays open (in use)
    const k2File = other.s.openFiles()[0].path;

    const mine = await boot(root, {}, 'k1');
    await mine.s.start();
    expect(mine.s.lastRecovery!.deleted).toEqual([]);
    expect(fs.existsSync(k2File)).toBe(true);
    await mine.s.stop();
    await other.s.stop();
  });

  it.each(['text', 'gzip'])('survives repeated kill -9 of a process writing the lake from the real file channel with lazy take commits (%s): every event exactly once, no in-use file left', async (format) => {
    const root = tmp();
    const parts = ['p0', 'p1', 'p2'];
    const all = Array.from({ length: 3000 }, (_, i) => ev(`line-${String(i).padStart(5, '0')}`, { part: parts[i % 3] }));
    // The real file channel, filled here and stopped; each child reopens it (replaying its log).
    const fill = new FileChannel('c1', { checkpointDir: path.join(root, 'channel', 'checkpoint'), dataDir: path.join(root, 'channel', 'data'), capacity: 10_000_000, maxFileSize: 64 * 1024 });
    await fill.start();
    for (let i = 0; i < all.length; i += 500) {
      const tx = fill.transaction();
      tx.put(all.slice(i, i + 500));
      await tx.commit();
    }
    await fill.stop();
    const child = path.join(import.meta.dirname, 'support', 'sink-lake-child.ts');
    let kills = 0;
    let done = false;
    const remaining: number[] = [];
    const repaired: string[] = [];
    for (let run = 0; run < 25 && !done; run++) {
      const p = spawn(process.execPath, ['--import', 'tsx', child, root, format], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'silent', SMARTCAR_LAKE_JOURNAL_COMPACT: '400' } });
      let out = '';
      p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
      const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
      await until(() => out.includes('started') || p.exitCode !== null);
      if (run < 6) {
        // Kill a few batches in, at a random instant inside a batch (write, fsync, commit or rename).
        const after = 2 + Math.floor(Math.random() * 5);
        await until(() => (out.match(/^b /gm) ?? []).length >= after || p.exitCode !== null);
        await new Promise((r) => setTimeout(r, Math.random() * 4));
        if (p.exitCode === null) {
          p.kill('SIGKILL');
          kills++;
        }
      }
      const code = await exited;
      done = code === 0 && out.includes('done');
      const started = /started (.*) size (\d+)$/m.exec(out);
      if (started) {
        repaired.push(started[1]);
        if (run > 0) remaining.push(Number(started[2]));
      }
    }
    if (process.env.SINK_DEBUG) console.log(format, kills, remaining, repaired.map((r) => r.replace(/"\/[^"]*\//g, '"')));
    expect(done).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(3);
    // The kills landed mid-drain (not before the first batch or after the last).
    expect(remaining.filter((n) => n > 0 && n < 3000).length).toBeGreaterThanOrEqual(2);
    const names = files(root);
    expect(names.filter((f) => !/^k\/p\d\/part\.\d{13}\.log(\.gz)?$/.test(f))).toEqual([]);
    expect(names.every((f) => f.endsWith('.gz') === (format === 'gzip'))).toBe(true);
    const got = content(root).sort();
    expect(got.length).toBe(3000);
    expect(new Set(got).size).toBe(3000);
    expect(got).toEqual(all.map((e) => e.body.toString()).sort());
    // Nothing left in the channel after the last run.
    const after = new FileChannel('c1', { checkpointDir: path.join(root, 'channel', 'checkpoint'), dataDir: path.join(root, 'channel', 'data') });
    await after.start();
    expect(after.size()).toBe(0);
    await after.stop();
  }, 400_000);
});
