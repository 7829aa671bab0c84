/**
 * Crash harness for the collection agent (issue #4's reliability test): a real `smartcar agent` process
 * ingests a status day through a file channel into the lake and is killed with SIGKILL at random
 * moments; after the last restart the lake must hold every line the filter keeps, exactly once.
 * Used by `npm run soak:collect` (20 kills by default) and, in a short form, by the test suite.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeStatusDay, statusFileName } from '../src/sim/index.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/smartcar.js');

/** The seed's batch flow (spooldir → four interceptors → channel → lake sink) as agent `a`. */
export function spoolAgent(o: { spoolDir: string; channel: 'file' | 'memory'; rollSize: number; idleTimeout: number }): string {
  return `
a.sources = spool
a.channels = ch
a.sinks = lake
a.sources.spool.type = spooldir
a.sources.spool.spoolDir = ${o.spoolDir}
a.sources.spool.deletePolicy = immediate
a.sources.spool.batchSize = 1000
a.sources.spool.pollDelay = 20
a.sources.spool.interceptors = ts type day filter
a.sources.spool.interceptors.ts.type = timestamp
a.sources.spool.interceptors.ts.preserveExisting = true
a.sources.spool.interceptors.type.type = static
a.sources.spool.interceptors.type.key = logType
a.sources.spool.interceptors.type.value = car-batch-log
a.sources.spool.interceptors.day.type = com.wikibook.bigdata.smartcar.flume.CollectDayInterceptor$Builder
a.sources.spool.interceptors.filter.type = regex_filter
a.sources.spool.interceptors.filter.regex = ^\\\\d{14}
a.sources.spool.channels = ch
a.channels.ch.type = ${o.channel}
a.channels.ch.capacity = 100000
a.channels.ch.transactionCapacity = 10000
a.sinks.lake.type = hdfs
a.sinks.lake.channel = ch
a.sinks.lake.hdfs.path = /pilot-pjt/collect/%{logType}/wrk_date=%Y%m%d
a.sinks.lake.hdfs.filePrefix = %{logType}
a.sinks.lake.hdfs.fileSuffix = .log
a.sinks.lake.hdfs.fileType = DataStream
a.sinks.lake.hdfs.batchSize = 10000
a.sinks.lake.hdfs.rollInterval = 0
a.sinks.lake.hdfs.rollCount = 0
a.sinks.lake.hdfs.rollSize = ${o.rollSize}
a.sinks.lake.hdfs.idleTimeout = ${o.idleTimeout}
`;
}

export const SPOOL_AGENT = spoolAgent({ spoolDir: 'spool/car-batch-log', channel: 'file', rollSize: 2_000_000, idleTimeout: 1 });

export interface SoakOptions {
  kills: number;
  cars: number;
  seed: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  kills: number;
  /** Kills that hit while a spool file was being ingested. */
  midIngest: number;
  expected: number;
  stored: number;
  duplicates: number;
  missing: number;
  extra: number;
  badSuffix: number;
  /** Lines longer than maxLineLength in the input, and dead letters written (≥ tooLong: a crash may repeat one). */
  tooLong: number;
  deadLetters: number;
  dir: string;
}

function startAgent(dir: string): { proc: ChildProcess; running: Promise<void>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [BIN, 'agent', '-n', 'a', '-f', path.join(dir, 'agent.properties'), '--data', dir], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' },
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const running = new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('running')) resolve(); });
    void exited.then((code) => reject(new Error(`agent exited ${code} before running: ${err}`)));
  });
  return { proc, running, exited };
}

/** Every committed line in the lake (closed files only: in-use `.tmp` files are invisible to readers). */
export function lakeLines(dir: string): string[] {
  const root = path.join(dir, 'lake', 'collect', 'car-batch-log');
  const out: string[] = [];
  if (!fs.existsSync(root)) return out;
  for (const part of fs.readdirSync(root)) {
    for (const f of fs.readdirSync(path.join(root, part))) {
      if (f.endsWith('.tmp') || f.startsWith('.')) continue;
      const text = fs.readFileSync(path.join(root, part, f), 'utf8');
      for (const l of text.split('\n')) if (l) out.push(l);
    }
  }
  return out;
}

export async function crashSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-soak-collect-'));
  fs.writeFileSync(path.join(dir, 'agent.properties'), SPOOL_AGENT);
  const spool = path.join(dir, 'spool', 'car-batch-log');
  fs.mkdirSync(spool, { recursive: true });
  const staged = path.join(dir, 'staged');
  fs.mkdirSync(staged);
  // A new day file every other kill, so kills land while files are being ingested, not after.
  const days = Array.from({ length: Math.ceil(o.kills / 2) + 1 }, (_, i) => `202401${String(i + 1).padStart(2, '0')}`);
  const expected: string[] = [];
  let tooLong = 0;
  for (const [i, date] of days.entries()) {
    writeStatusDay({ date, cars: o.cars, outDir: staged, seed: o.seed + i, garbage: 0.01 });
    // Record lines pass the filter; any line longer than the spool source's maxLineLength (2048, Flume's
    // default) goes to the dead letters instead (the simulator's garbage includes such lines).
    const all = fs.readFileSync(path.join(staged, statusFileName(date)), 'utf8').split('\n');
    for (const l of all) {
      if (Buffer.byteLength(l) > 2048) tooLong++;
      else if (/^\d{14}/.test(l)) expected.push(l);
    }
  }
  const drop = (date: string) => {
    fs.renameSync(path.join(staged, statusFileName(date)), path.join(spool, '.incoming'));
    fs.renameSync(path.join(spool, '.incoming'), path.join(spool, statusFileName(date)));
  };
  const pending = () => fs.readdirSync(spool).filter((f) => !f.startsWith('.')).length;
  log(`${expected.length} record lines (+ headers and 1% garbage) in ${days.length} day files, ${dir}`);

  let kills = 0;
  let midIngest = 0;
  for (let i = 0; i < o.kills; i++) {
    if (i % 2 === 0) drop(days[i / 2]);
    const a = startAgent(dir);
    await a.running;
    const wait = 50 + Math.floor(Math.random() * 700);
    await new Promise((r) => setTimeout(r, wait));
    const busy = pending() > 0;
    a.proc.kill('SIGKILL');
    await a.exited;
    kills++;
    if (busy) midIngest++;
    log(`kill ${kills}/${o.kills} after ${wait} ms${busy ? ' (mid-ingest)' : ''}: ${lakeLines(dir).length} lines in closed lake files`);
  }
  for (const d of days.slice(Math.ceil(o.kills / 2))) drop(d);
  // The last run goes to the end: the spool files consumed, the channel drained, files closed on stop.
  const a = startAgent(dir);
  await a.running;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && (pending() > 0 || lakeLines(dir).length < expected.length)) {
    await new Promise((r) => setTimeout(r, 200));
  }
  a.proc.kill('SIGTERM');
  const code = await a.exited;
  if (code !== 0) throw new Error(`agent did not stop cleanly (exit ${code})`);

  const stored = lakeLines(dir);
  let badSuffix = 0;
  const counts = new Map<string, number>();
  for (const l of stored) {
    const m = /^(.*),(\d{8})$/.exec(l);
    if (!m) { badSuffix++; continue; }
    counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  let missing = 0, duplicates = 0;
  for (const l of expected) {
    const n = counts.get(l) ?? 0;
    if (n === 0) missing++;
    else if (n > 1) duplicates += n - 1;
    counts.delete(l);
  }
  const extra = [...counts.values()].reduce((s, n) => s + n, 0);
  const deadFile = path.join(dir, 'dead-letter', 'collect-a.jsonl');
  const deadLetters = fs.existsSync(deadFile) ? fs.readFileSync(deadFile, 'utf8').split('\n').filter(Boolean).length : 0;
  return { kills, midIngest, expected: expected.length, stored: stored.length, duplicates, missing, extra, badSuffix, tooLong, deadLetters, dir };
}

export const TAIL_AGENT = `
t.sources = tail
t.channels = ch
t.sinks = lake
t.sources.tail.type = exec
t.sources.tail.command = tail -F logs/drive.log
t.sources.tail.batchSize = 500
t.sources.tail.channels = ch
t.channels.ch.type = file
t.sinks.lake.type = hdfs
t.sinks.lake.channel = ch
t.sinks.lake.hdfs.path = collect/drive-tail
t.sinks.lake.hdfs.filePrefix = drive
t.sinks.lake.hdfs.fileSuffix = .log
t.sinks.lake.hdfs.batchSize = 2000
t.sinks.lake.hdfs.rollInterval = 0
t.sinks.lake.hdfs.rollCount = 0
t.sinks.lake.hdfs.rollSize = 500000
`;

/**
 * The tail flow under kill -9: a writer appends numbered lines to the followed file and rotates it by
 * rename (also while the agent is down) while the agent — exec `tail -F` → file channel → lake sink — is
 * killed at random moments and restarted; at the end the lake holds every line exactly once.
 */
export async function tailCrashSoak(o: { kills: number; log?: (line: string) => void }): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-soak-tail-'));
  fs.writeFileSync(path.join(dir, 'agent.properties'), TAIL_AGENT);
  const file = path.join(dir, 'logs', 'drive.log');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
  let n = 0;
  let rotations = 0;
  const expected: string[] = [];
  const write = (count: number) => {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(`20240101${String(n % 1_000_000).padStart(6, '0')},L${n++}`);
    expected.push(...lines);
    fs.appendFileSync(file, lines.join('\n') + '\n');
  };
  // Rotation by rename: the follower must drain the old file (also while the agent is down).
  const rotate = () => { fs.renameSync(file, `${file}.${++rotations}`); fs.writeFileSync(file, ''); };
  const lakeDir = path.join(dir, 'lake', 'collect', 'drive-tail');
  const stored = () => (fs.existsSync(lakeDir) ? fs.readdirSync(lakeDir).filter((f) => !f.endsWith('.tmp')).flatMap((f) => fs.readFileSync(path.join(lakeDir, f), 'utf8').split('\n').filter(Boolean)) : []);
  const start = () => {
    const proc = spawn(process.execPath, [BIN, 'agent', '-n', 't', '-f', path.join(dir, 'agent.properties'), '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SMARTCAR_LOG_LEVEL: process.env.SOAK_AGENT_LOG_LEVEL ?? 'info' } });
    // The agents' logs stay in the soak directory (kept when a check fails).
    proc.stderr!.pipe(fs.createWriteStream(path.join(dir, 'agent.log'), { flags: 'a' }));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const running = new Promise<void>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('running')) resolve(); });
      void exited.then((code) => reject(new Error(`agent exited ${code} before running`)));
    });
    return { proc, running, exited };
  };
  let kills = 0;
  for (let i = 0; i < o.kills; i++) {
    const a = start();
    await a.running;
    const until = Date.now() + 100 + Math.floor(Math.random() * 500);
    while (Date.now() < until) {
      write(200);
      if (Math.random() < 0.05) rotate();
      await new Promise((r) => setTimeout(r, 10));
    }
    a.proc.kill('SIGKILL');
    await a.exited;
    kills++;
    // Lines written and a rotation made while the agent is down.
    write(300);
    if (i % 3 === 0) rotate();
    write(100);
    log(`tail kill ${kills}/${o.kills}: ${expected.length} lines written, ${rotations} rotations, ${stored().length} in closed lake files`);
  }
  const a = start();
  await a.running;
  // Wait until everything written is in the lake (the open in-use file counted too), then stop: the
  // stop closes (renames) the open file.
  const written = () => (fs.existsSync(lakeDir) ? fs.readdirSync(lakeDir).reduce((s, f) => s + fs.readFileSync(path.join(lakeDir, f), 'utf8').split('\n').filter(Boolean).length, 0) : 0);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && written() < expected.length) await new Promise((r) => setTimeout(r, 100));
  a.proc.kill('SIGTERM');
  if ((await a.exited) !== 0) throw new Error('agent did not stop cleanly');
  const got = stored();
  const counts = new Map<string, number>();
  for (const l of got) counts.set(l, (counts.get(l) ?? 0) + 1);
  let missing = 0, duplicates = 0;
  for (const l of expected) {
    const c = counts.get(l) ?? 0;
    if (c === 0) missing++;
    else if (c > 1) duplicates += c - 1;
    counts.delete(l);
  }
  const extra = [...counts.values()].reduce((s, x) => s + x, 0);
  return { kills, midIngest: kills, expected: expected.length, stored: got.length, duplicates, missing, extra, badSuffix: 0, tooLong: 0, deadLetters: 0, dir };
}
