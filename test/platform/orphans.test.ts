/**
 * Children never outlive the supervisor: kill -9 of `smartcar up` itself (only that pid, as an OOM
 * killer or a careless `kill -9` would) leaves no smartcar process after 3 s, and a new `up` on the
 * same data directory resumes — every well-formed line of the driving log is a row, exactly once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPaths } from '../../src/core/paths.ts';
import { DRIVER_TABLE, driverRowKey, parseDrivingRecord } from '../../src/core/records.ts';
import { openTableStore } from '../../src/table/index.ts';
import { readLock } from '../../src/platform/lock.ts';
import { waitFor } from '../support/overspeed.ts';
import { endAll, processesOf, spawnUp } from '../support/platform.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-orphans-'));
const data = path.join(root, 'data');
const p = dataPaths(data);
const started: ChildProcess[] = [];

afterAll(() => {
  endAll(root, started);
  fs.rmSync(root, { recursive: true, force: true });
});

function up() {
  const u = spawnUp(data, ['--port', '0', '--broker-port', '0', '--cars', '20', '--speedup', '40', '--seed', '7', '--date', '20240110',
    '--status-cars', '2', '--garbage', '0.002'], { track: started, readyMs: 90_000 });
  return { child: u.child, out: u.output, exited: u.exited, ready: u.ready };
}

/** Distinct well-formed records of the log, keyed as the table store keys its rows. */
function distinctRecords(lines: string[]): Set<string> {
  const out = new Set<string>();
  for (const l of lines) {
    const r = parseDrivingRecord(l);
    if (r.ok) out.add(driverRowKey(r.record.date, r.record.carNumber));
  }
  return out;
}

const goodLines = () => (fs.existsSync(p.driverLog) ? fs.readFileSync(p.driverLog, 'latin1').split('\n').filter((l) => parseDrivingRecord(l).ok) : []);

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

describe('kill -9 of smartcar up', () => {
  it('ends every child within 3 s; a new up resumes and stores every well-formed line exactly once', async () => {
    let u = up();
    await u.ready;
    const children = Object.values(readLock(p.state)?.children ?? {});
    expect(children).toHaveLength(6);
    await waitFor(() => goodLines().length > 20 * 200, 60_000, 'the simulator to write');

    const t0 = Date.now();
    process.kill(u.child.pid!, 'SIGKILL');
    await u.exited;
    await waitFor(() => processesOf(data).length === 0, 3000, `no smartcar process of ${data} (left: ${processesOf(data).join(', ')})`);
    const goneMs = Date.now() - t0;
    expect(goneMs).toBeLessThan(3000);
    // The lock of the dead owner is still there: the next up takes it over.
    expect(readLock(p.state)?.pid).toBe(u.child.pid);

    u = up();
    await u.ready;
    expect(u.out()).toMatch(/took over a stale lock of pid \d+/);
    const before = goodLines().length;
    await waitFor(() => goodLines().length > before + 20 * 100, 60_000, 'the simulator to write again');
    // Everything in the log now reaches the table while the platform runs; nothing the log lacks is there.
    const snapshot = goodLines();
    const want = distinctRecords(snapshot);
    // The simulator resumed where it stopped: no record written twice.
    expect(want.size).toBe(snapshot.length);
    let keys: string[] = [];
    await waitFor(async () => {
      keys = await tableKeys();
      const have = new Set(keys);
      for (const k of want) if (!have.has(k)) return false;
      return true;
    }, 90_000, `the table store to hold the ${want.size} records of the log`);
    const all = distinctRecords(goodLines());
    expect(keys.filter((k) => !all.has(k))).toEqual([]);
    expect(new Set(keys).size).toBe(keys.length);
    u.child.kill('SIGINT');
    expect(await u.exited).toBe(0);
    expect(processesOf(data)).toEqual([]);
  }, 200_000);
});

describe('timeout N smartcar up', () => {
  it('one stop signalled twice in quick succession is one clean stop: exit 0, no lock left', async () => {
    const dir = path.join(root, 'timeout');
    const u = spawnUp(dir, ['--port', '0', '--broker-port', '0', '--no-sim'], { track: started, readyMs: 90_000 });
    await u.ready;
    const { child, exited } = u;
    const out = () => u.output();
    // `timeout` sends its SIGTERM to the command and then to the whole process group: two deliveries
    // of one request, which the kernel merges only when the second comes before the first is handled.
    // 30 ms apart they are always two.
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 30));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out()).not.toContain('again: forcing exit');
    expect(out()).toMatch(/^stopped$/m);
    expect(fs.existsSync(path.join(dir, 'state', 'platform.lock'))).toBe(false);
    expect(processesOf(dir)).toEqual([]);
  }, 120_000);
});
