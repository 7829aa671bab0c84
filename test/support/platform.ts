/**
 * Running `smartcar up` as a real process tree, faulting it, and checking what it stored — shared by
 * test/platform/*, test/e2e/* and soak/platform.ts.
 *
 * The checks compare the platform's stores (read through src/'s own readers: that is what is under test)
 * with the simulator's output files read by the suite's oracles (test/support/spec.ts, overspeed.ts,
 * emergency.ts), which import nothing from src/. Driving records are compared as numbers
 * (civil second × 2^18 + car index) in sorted typed arrays, so a soak's tens of millions of records fit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { DRIVER_TABLE } from '../../src/core/records.ts';
import { openTableStore, type TableStoreOptions } from '../../src/table/index.ts';
import { dayKeys, openHotStore, type HotStoreOptions } from '../../src/hot/index.ts';
import { SMARTCAR_BIN } from '../../src/platform/supervisor.ts';
import { readLock } from '../../src/platform/lock.ts';
import { httpGet } from '../../src/platform/scrape.ts';
import { expectedOverspeed } from './overspeed.ts';
import { civilSecond, specDriving, waitFor } from './spec.ts';

export { SMARTCAR_BIN };

export interface Up {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  /** Resolves once `ready` is printed; rejects with the output when `up` exits first. */
  ready: Promise<void>;
  /** The HTTP port of /health (known once ready). */
  port(): number;
  /** The children's pids by component name, from the platform's lock file. */
  children(): Record<string, number>;
}

const READY = /^ready; Ctrl-C stops everything$/m;

/**
 * Spawns `smartcar up --data <data> …args` and returns at once; `ready` says when it is up. Every spawned
 * process is pushed to `track` so the caller's afterAll can end what is left.
 */
export function spawnUp(data: string, args: string[], o: { track: ChildProcess[]; env?: NodeJS.ProcessEnv; readyMs?: number }): Up {
  const child = spawn(process.execPath, [SMARTCAR_BIN, 'up', '--data', data, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
  o.track.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = waitFor(() => READY.test(out) || child.exitCode !== null || child.signalCode !== null, o.readyMs ?? 360_000, 'smartcar up to be ready')
    .then(() => { if (!READY.test(out)) throw new Error(`smartcar up exited ${child.exitCode ?? child.signalCode}:\n${out}`); });
  ready.catch(() => {});
  return {
    child, exited, ready,
    output: () => out,
    port: () => Number(/http:\/\/127\.0\.0\.1:(\d+)\/health/.exec(out)?.[1] ?? NaN),
    children: () => readLock(path.join(data, 'state'))?.children ?? {},
  };
}

/** `spawnUp`, awaited until ready. */
export async function startUp(data: string, args: string[], o: Parameters<typeof spawnUp>[2]): Promise<Up> {
  const u = spawnUp(data, args, o);
  await u.ready;
  return u;
}

/** `smartcar …args`, run to its end. */
export function smartcar(args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): { status: number | null; out: string; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SMARTCAR_BIN, ...args], { encoding: 'utf8', timeout: o.timeoutMs ?? 180_000, env: o.env ?? process.env });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? ''), stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * `smartcar …args` without blocking this process's event loop (for tests that serve something the command
 * talks to, such as a busy port); killed after `timeoutMs`.
 */
export function smartcarAsync(args: string[], o: { cwd?: string; timeoutMs?: number } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [SMARTCAR_BIN, ...args], { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const t = setTimeout(() => c.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    c.on('close', (status) => { clearTimeout(t); resolve({ status, stdout, stderr }); });
  });
}

/** The platform's /health JSON. */
export async function health(port: number): Promise<{ status: string; components: Record<string, { phase: string; pid?: number; restarts: number }> }> {
  return JSON.parse((await httpGet(`127.0.0.1:${port}`, '/health', 10_000)).body);
}

export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** The pids of a process and all its descendants (children run in their own process groups). */
export function processTree(pid: number): number[] {
  const r = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' });
  const kids = new Map<number, number[]>();
  for (const line of r.stdout.trim().split('\n')) {
    const [c, parent] = line.trim().split(/\s+/).map(Number);
    kids.set(parent, [...(kids.get(parent) ?? []), c]);
  }
  const out: number[] = [];
  const walk = (x: number) => { out.push(x); for (const k of kids.get(x) ?? []) walk(k); };
  walk(pid);
  return out;
}

/** kill -9 of a process and every descendant; returns the pids signalled. */
export function killTree(pid: number): number[] {
  const pids = processTree(pid);
  for (const x of pids) {
    try { process.kill(x, 'SIGKILL'); } catch { /* already gone */ }
  }
  return pids;
}

/** Every live process whose command line names `dir` (zombies excluded). */
export function processesOf(dir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (!cmd.includes(dir)) continue;
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      out.push(Number(e));
    } catch {
      // Gone while reading.
    }
  }
  return out;
}

/** kill -9 of every process naming `dir` and of the tracked children (an afterAll's last resort). */
export function endAll(dir: string, track: ChildProcess[]): void {
  for (const pid of processesOf(dir)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  for (const c of track) if (c.exitCode === null && c.signalCode === null && c.pid) killTree(c.pid);
}

// ── the simulator's output, read by the oracles ──────────────────────────────────────────────────────

/** The lines of a file, read in large blocks (latin1: the formats are ASCII; a log may be gigabytes). */
export function* fileLines(file: string): Generator<string> {
  if (!fs.existsSync(file)) return;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(16 * 1024 * 1024);
    let carry = '';
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const parts = (carry + buf.toString('latin1', 0, n)).split('\n');
      carry = parts.pop()!;
      yield* parts;
    }
    if (carry) yield carry;
  } finally {
    fs.closeSync(fd);
  }
}

const CAR_SPAN = 2 ** 18;
/** A driving record as one number: civil second × 2^18 + (letter × 10,000 + digits). */
export const recordCode = (second: number, car: string): number => second * CAR_SPAN + (car.charCodeAt(0) - 65) * 10_000 + Number(car.slice(1));
export const codeName = (code: number): string => {
  const car = code % CAR_SPAN;
  const second = (code - car) / CAR_SPAN;
  return `${second}/${String.fromCharCode(65 + Math.floor(car / 10_000))}${String(car % 10_000).padStart(4, '0')}`;
};

/** Numbers in a growable typed array. */
class Codes {
  private a = new Float64Array(1 << 16);
  n = 0;
  push(x: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
  sorted(): Float64Array {
    return this.a.subarray(0, this.n).sort();
  }
}

/** Sorted codes with their duplicates removed; `dupes` counts the removed ones. */
function distinct(sorted: Float64Array): { codes: Float64Array; dupes: number } {
  let w = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[w - 1]) sorted[w++] = sorted[i];
  return { codes: sorted.subarray(0, w), dupes: sorted.length - w };
}

export interface LogRecords {
  /** Well-formed lines (the oracle's parser). */
  good: number;
  /** Lines that are not records (headers, garbage, torn lines). */
  other: number;
  /** Distinct records, sorted codes. */
  codes: Float64Array;
  /** Well-formed lines repeating a record already in the log (the simulator wrote it twice). */
  repeated: number;
  minSecond: number;
  maxSecond: number;
}

/** The driving log as the oracle reads it. */
export function logRecords(file: string): LogRecords {
  const c = new Codes();
  let other = 0, minSecond = Infinity, maxSecond = -Infinity;
  for (const l of fileLines(file)) {
    const r = specDriving(l);
    if (!r) {
      if (l) other++;
      continue;
    }
    c.push(recordCode(r.second, r.car));
    if (r.second < minSecond) minSecond = r.second;
    if (r.second > maxSecond) maxSecond = r.second;
  }
  const { codes, dupes } = distinct(c.sorted());
  return { good: c.n, other, codes, repeated: dupes, minSecond, maxSecond };
}

/** DriverCarInfo's rows as codes (a row key is the reversed timestamp, `-`, the car: SEED §5). */
export async function tableCodes(opts: TableStoreOptions): Promise<{ codes: Float64Array; rows: number; malformed: string[] }> {
  const table = await openTableStore(opts);
  const c = new Codes();
  const malformed: string[] = [];
  try {
    for await (const r of table.scan(DRIVER_TABLE)) {
      const m = /^(\d{14})-([A-Z]\d{4})$/.exec(r.row);
      const second = m ? civilSecond([...m[1]].reverse().join('')) : undefined;
      if (!m || second === undefined) {
        if (malformed.length < 10) malformed.push(r.row);
        continue;
      }
      c.push(recordCode(second, m[2]));
    }
  } finally {
    await table.close();
  }
  return { codes: c.sorted(), rows: c.n + malformed.length, malformed };
}

/** Rows of DriverCarInfo (cheap: for waiting). */
export async function tableCount(opts: TableStoreOptions): Promise<number> {
  const table = await openTableStore(opts);
  try {
    return await table.count(DRIVER_TABLE).catch(() => 0);
  } finally {
    await table.close();
  }
}

/** `want` minus `have` (both sorted, distinct), at most `cap` examples kept. */
export function missingFrom(want: Float64Array, have: Float64Array, cap = 10): { count: number; examples: string[] } {
  let i = 0, j = 0, count = 0;
  const examples: string[] = [];
  while (i < want.length) {
    if (j < have.length && have[j] < want[i]) j++;
    else if (j < have.length && have[j] === want[i]) { i++; j++; }
    else {
      count++;
      if (examples.length < cap) examples.push(codeName(want[i]));
      i++;
    }
  }
  return { count, examples };
}

export interface DrivingCheck {
  log: LogRecords;
  tableRows: number;
  /** Records of the log that are not rows. */
  missing: { count: number; examples: string[] };
  /** Rows that are not records of the log. */
  extra: { count: number; examples: string[] };
  /** Rows whose key is not a well-formed row key. */
  malformedRows: string[];
}

/** The table against the whole log, once. */
export async function checkTable(logFile: string, table: TableStoreOptions, log = logRecords(logFile)): Promise<DrivingCheck> {
  const t = await tableCodes(table);
  return { log, tableRows: t.rows, missing: missingFrom(log.codes, t.codes), extra: missingFrom(t.codes, log.codes), malformedRows: t.malformed };
}

/**
 * Waits until the table holds every record of the log as it is now (the platform may still be
 * writing), then checks that every row is a record of the log as it is then. Returns the last check
 * (with `missing.count > 0` on a timeout).
 */
export async function waitForTable(logFile: string, table: TableStoreOptions, timeoutMs: number): Promise<DrivingCheck> {
  const snapshot = logRecords(logFile);
  const deadline = Date.now() + timeoutMs;
  let t = await tableCodes(table);
  let missing = missingFrom(snapshot.codes, t.codes);
  while (missing.count > 0 && Date.now() < deadline) {
    // A full scan is costly on a big table: wait for the row count first.
    await waitFor(async () => (await tableCount(table)) >= snapshot.codes.length || Date.now() > deadline, timeoutMs + 1000, 'the table to grow');
    t = await tableCodes(table);
    missing = missingFrom(snapshot.codes, t.codes);
    if (missing.count > 0) await new Promise((r) => setTimeout(r, 1000));
  }
  const later = logRecords(logFile);
  return { log: snapshot, tableRows: t.rows, missing, extra: missingFrom(t.codes, later.codes), malformedRows: t.malformed };
}

export interface OverspeedCheck {
  /** Day → sorted members, on each side (days without members left out). */
  want: Map<string, string[]>;
  got: Map<string, string[]>;
  members: number;
}

/**
 * The hot store's overspeed sets against the oracle over the log. With `cutSecond`, only members whose
 * window ended before it (on both sides): windows still open in the stream are not final yet. Days are
 * those the oracle names and every day set of the store within a day of the log's records (a shared
 * Redis database may hold other days of other runs).
 */
export async function checkOverspeed(logFile: string, hotOpts: HotStoreOptions, cutSecond?: number, expected?: Map<string, Set<string>>): Promise<OverspeedCheck> {
  let lo = Infinity, hi = -Infinity;
  function* spanned(): Generator<string> {
    for (const l of fileLines(logFile)) {
      const r = specDriving(l);
      if (r) {
        if (r.second < lo) lo = r.second;
        if (r.second > hi) hi = r.second;
      }
      yield l;
    }
  }
  const fromLog = expectedOverspeed(spanned());
  expected ??= fromLog;
  const keep = (member: string) => cutSecond === undefined || civilSecond(member.slice(member.indexOf('-') + 1))! < cutSecond;
  const near = (day: string) => {
    const s = civilSecond(`${day}000000`);
    return s !== undefined && s >= lo - 2 * 86_400 && s <= hi + 86_400;
  };
  const hot = await openHotStore(hotOpts);
  try {
    const days = new Set<string>([...expected.keys(), ...(await dayKeys(hot)).filter(near)]);
    const want = new Map<string, string[]>(), got = new Map<string, string[]>();
    for (const day of [...days].sort()) {
      const exp = [...(expected.get(day) ?? [])].filter(keep).sort();
      const have = (await hot.smembers(day)).filter(keep).sort();
      if (exp.length) want.set(day, exp);
      if (have.length) got.set(day, have);
    }
    return { want, got, members: [...want.values()].reduce((n, m) => n + m.length, 0) };
  } finally {
    await hot.close();
  }
}

/** Members on one side only, both ways (for reports). */
export function overspeedDiff(c: OverspeedCheck): { missing: string[]; extra: string[] } {
  const flat = (m: Map<string, string[]>) => new Set([...m].flatMap(([d, xs]) => xs.map((x) => `${d} ${x}`)));
  const w = flat(c.want), g = flat(c.got);
  return { missing: [...w].filter((x) => !g.has(x)), extra: [...g].filter((x) => !w.has(x)) };
}

/** Status lines of the lake (closed files only), every partition. */
export function lakeStatusLines(data: string): string[] {
  const dir = path.join(data, 'lake', 'collect', 'car-batch-log');
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const part of fs.readdirSync(dir)) {
    for (const f of fs.readdirSync(path.join(dir, part))) {
      if (f.startsWith('.') || f.endsWith('.tmp')) continue;
      for (const l of fileLines(path.join(dir, part, f))) if (/^\d{14}/.test(l)) out.push(l);
    }
  }
  return out;
}
