/**
 * End to end, with real processes: `smartcar up` (embedded broker, agent, stream, scheduler, simulator
 * with a fixed seed at a high speed-up), stopped cleanly, restarted, killed with kill -9 (the whole
 * process tree) mid-run, restarted again. At the end:
 *   - every well-formed driving line of the log is a row of DriverCarInfo, once (no row the log lacks);
 *   - the overspeed sets of the hot store equal an independent computation over the log (closed windows);
 *   - the simulated status day landed in the lake exactly once, the daily workflows build the marts,
 *     and the emergency-check mart equals the SEED §6 rules computed over the lake's raw lines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPaths } from '../../src/core/paths.ts';
import { DRIVER_TABLE, driverRowKey, parseDrivingRecord } from '../../src/core/records.ts';
import { localDate8 } from '../../src/core/time.ts';
import { openTableStore } from '../../src/table/index.ts';
import { openHotStore } from '../../src/hot/index.ts';
import { openCatalog } from '../../src/sql/index.ts';
import { SMARTCAR_BIN } from '../../src/platform/supervisor.ts';
import { httpGet } from '../../src/platform/scrape.ts';
import { expectedOverspeed, waitFor } from '../support/overspeed.ts';
import { expectedEmergency } from '../support/emergency.ts';

const SIM_DAY = '20240105';
const CARS = 20;
const STATUS_CARS = 3;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-e2e-'));
const data = path.join(root, 'data');
const p = dataPaths(data);
const UP_ARGS = ['up', '--data', data, '--port', '0', '--broker-port', '0', '--cars', String(CARS), '--speedup', '40', '--seed', '5',
  '--date', SIM_DAY, '--status-cars', String(STATUS_CARS), '--garbage', '0.002'];

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.pid) killTree(c.pid);
  if (process.env.SMARTCAR_E2E_KEEP) process.stderr.write(`e2e data kept in ${data}\n`);
  else fs.rmSync(root, { recursive: true, force: true });
});

interface Up {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

async function up(): Promise<Up> {
  const child = spawn(process.execPath, [SMARTCAR_BIN, ...UP_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(() => /^ready; Ctrl-C stops everything$/m.test(out) || child.exitCode !== null, 120_000, 'smartcar up to be ready');
  if (child.exitCode !== null) throw new Error(`smartcar up exited ${child.exitCode}:\n${out}`);
  const port = Number(/http:\/\/127\.0\.0\.1:(\d+)\/health/.exec(out)![1]);
  return { child, port, output: () => out, exited };
}

/** The pids of a process and all its descendants (children run in their own process groups). */
function tree(pid: number): number[] {
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

function killTree(pid: number): number[] {
  const pids = tree(pid);
  for (const x of pids) {
    try { process.kill(x, 'SIGKILL'); } catch { /* already gone */ }
  }
  return pids;
}

function logLines(): string[] {
  return fs.existsSync(p.driverLog) ? fs.readFileSync(p.driverLog, 'latin1').split('\n') : [];
}

function goodRecords(lines: string[]): number {
  let n = 0;
  for (const l of lines) if (parseDrivingRecord(l).ok) n++;
  return n;
}

async function tableKeys(): Promise<string[]> {
  const table = await openTableStore({ kind: 'lmdb', path: p.table });
  try {
    const keys: string[] = [];
    for await (const r of table.scan(DRIVER_TABLE)) keys.push(r.row);
    return keys;
  } finally {
    await table.close();
  }
}

/** Checks the driving side while the platform runs: table = log (exactly once), hot sets = independent computation. */
async function checkDriving(): Promise<void> {
  // Everything in the log up to now must reach the table; then nothing beyond the (later) log may be there.
  const snapshot = logLines();
  const want = new Set<string>();
  let maxEvent = 0;
  for (const l of snapshot) {
    const r = parseDrivingRecord(l);
    if (!r.ok) continue;
    want.add(driverRowKey(r.record.date, r.record.carNumber));
    maxEvent = Math.max(maxEvent, r.record.eventTime);
  }
  expect(want.size).toBeGreaterThan(CARS * 100);
  let keys: string[] = [];
  await waitFor(async () => {
    keys = await tableKeys();
    const have = new Set(keys);
    for (const k of want) if (!have.has(k)) return false;
    return true;
  }, 90_000, `the table store to hold the ${want.size} records of the log`);
  const later = logLines();
  const all = new Set<string>();
  for (const l of later) {
    const r = parseDrivingRecord(l);
    if (r.ok) all.add(driverRowKey(r.record.date, r.record.carNumber));
  }
  expect(keys.filter((k) => !all.has(k))).toEqual([]);
  expect(new Set(keys).size).toBe(keys.length);

  // Overspeed: windows that closed before the snapshot's end (minus a margin) are final on both sides.
  const cut = Math.floor((maxEvent - 60_000) / 30_000) * 30_000;
  const tsOf = (member: string) => member.slice(member.indexOf('-') + 1);
  const cutTs = new Date(cut).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const expected = expectedOverspeed(later);
  const hot = await openHotStore({ kind: 'embedded', path: p.hot });
  try {
    let compared = 0;
    for (const [day, members] of expected) {
      const exp = [...members].filter((m) => tsOf(m) < cutTs).sort();
      const got = (await hot.smembers(day)).filter((m) => tsOf(m) < cutTs).sort();
      expect(got).toEqual(exp);
      compared += exp.length;
    }
    expect(compared).toBeGreaterThan(0);
  } finally {
    await hot.close();
  }
}

const expectedEmergencyOfLake = (lines: string[]) => expectedEmergency(lines, 'lake');

function lakeStatusLines(): string[] {
  const dir = path.join(p.lakeCollect, 'car-batch-log');
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const part of fs.readdirSync(dir)) {
    for (const f of fs.readdirSync(path.join(dir, part))) {
      if (f.startsWith('.') || f.endsWith('.tmp')) continue;
      out.push(...fs.readFileSync(path.join(dir, part, f), 'latin1').split('\n').filter((l) => /^\d{14}/.test(l)));
    }
  }
  return out;
}

function smartcar(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SMARTCAR_BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('smartcar up, end to end', () => {
  it('runs the pipeline, stops cleanly, survives kill -9 of the whole tree, and every output equals an independent computation', async () => {
    // 1. First run, then a clean stop: exit 0, lock released.
    let u = await up();
    expect(u.output()).toMatch(/broker +pid \d+ +127\.0\.0\.1:\d+/);
    expect(u.output()).toMatch(/table +embedded LMDB at /);
    await waitFor(() => goodRecords(logLines()) > CARS * 150, 60_000, 'the simulator to write');
    const status = smartcar(['status', '--data', data]);
    expect(status.out).toMatch(/all components up/);
    expect(status.status).toBe(0);
    await checkDriving();
    u.child.kill('SIGTERM');
    expect(await u.exited).toBe(0);
    expect(fs.existsSync(path.join(p.state, 'platform.lock'))).toBe(false);

    // 2. Restart (resumes), then kill -9 every process of the tree mid-run.
    u = await up();
    const before = goodRecords(logLines());
    await waitFor(() => goodRecords(logLines()) > before + CARS * 100, 60_000, 'the simulator to write again');
    const killed = killTree(u.child.pid!);
    expect(killed.length).toBeGreaterThanOrEqual(6);
    await u.exited;
    const gone = (pid: number) => { try { process.kill(pid, 0); return false; } catch { return true; } };
    await waitFor(() => killed.every(gone), 10_000, 'every process of the tree to be gone');

    // 3. Restart after the crash: a stale lock taken over; the same holds.
    u = await up();
    expect(u.output()).toMatch(/took over a stale lock of pid \d+/);
    // One component crashing inside a running platform: /health says so, the supervisor restarts it.
    const addr = `127.0.0.1:${u.port}`;
    const streamPid = JSON.parse((await httpGet(addr, '/health')).body).components.stream.pid as number;
    process.kill(streamPid, 'SIGKILL');
    await waitFor(async () => (await httpGet(addr, '/health')).status === 503, 10_000, '/health to report the stream down');
    await waitFor(async () => (await httpGet(addr, '/health')).status === 200, 60_000, 'the stream to be restarted');
    expect(JSON.parse((await httpGet(addr, '/health')).body).components.stream).toMatchObject({ phase: 'up', restarts: 1 });
    const metrics = (await httpGet(addr, '/metrics')).body;
    expect(metrics).toMatch(/^smartcar_platform_restarts_total\{component="stream"\} 1$/m);
    expect(metrics).toMatch(/^smartcar_stream_rows_stored_total\{component="stream"\} \d+$/m);
    expect(metrics).toMatch(/^smartcar_broker_records_produced_total\{component="broker"\} [1-9]\d*$/m);
    expect(metrics.match(/^# HELP smartcar_stream_rows_stored_total /gm)).toHaveLength(1);
    const resumed = goodRecords(logLines());
    await waitFor(() => goodRecords(logLines()) > resumed + CARS * 100, 60_000, 'the simulator to write after the crash');
    await checkDriving();
    const statusFile = `SmartCarStatusInfo_${SIM_DAY}.txt`;
    // The agent deletes a spool file once ingested; its lake file is closed when idle or when the agent stops.
    await waitFor(() => !fs.existsSync(path.join(p.spool, statusFile)) && fs.existsSync(path.join(p.state, 'sim.json')), 90_000, 'the status day ingested');
    u.child.kill('SIGTERM');
    expect(await u.exited).toBe(0);

    // 4. The status day landed exactly once; the daily workflows build the marts.
    const statusLines = lakeStatusLines();
    expect(statusLines).toHaveLength(STATUS_CARS * 21_600);
    const workDay = localDate8();
    for (const [wf, day] of [['status', workDay], ['emergency-check', workDay], ['drive', SIM_DAY]]) {
      const r = smartcar(['workflow', 'run', wf, '--day', day, '--data', data]);
      expect(r.out).toContain('SUCCEEDED');
      expect(r.status).toBe(0);
    }
    const cat = await openCatalog({ dataDir: data });
    try {
      const got = (await cat.query(`select car_number, tire_check, light_check, engine_check, break_check, battery_check from Managed_SmartCar_Emergency_Check_Info where biz_date = '${workDay}'`))
        .rows.map((x) => x.join('|')).sort();
      const expected = expectedEmergencyOfLake(statusLines);
      expect(expected.length).toBeGreaterThan(0);
      expect(got).toEqual(expected);
      // The status mart joined the day with the car master the simulator loaded.
      expect(Number((await cat.query(`select count(*) from managed_smartcar_status_info where biz_date = '${workDay}'`)).rows[0][0])).toBeGreaterThan(0);
      const copied = (await cat.query(`select count(*) from smartcar_drive_info_2 where wrk_date = '${SIM_DAY}'`)).rows[0][0];
      const logDay = new Set(logLines().filter((l) => l.startsWith(SIM_DAY) && parseDrivingRecord(l).ok).map((l) => l.slice(0, 20)));
      expect(Number(copied)).toBe(logDay.size);
    } finally {
      await cat.close();
    }
  }, 280_000);
});
