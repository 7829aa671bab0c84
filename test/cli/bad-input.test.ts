/**
 * Ordinary mistakes at the command line: each is refused with one line (`smartcar: …`, no stack, no
 * JSON log) and exit code 2, or says what to do next. Real `node bin/smartcar.js` processes, a real
 * LMDB store and DuckDB catalog.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMARTCAR_BIN } from '../../src/platform/supervisor.ts';
import { smartcarAsync } from '../support/platform.ts';
import { openTableStore, ensureDriverTable, drivingRecordCells } from '../../src/table/index.ts';
import { DRIVER_TABLE, driverRowKey, parseDrivingRecord } from '../../src/core/records.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bad-input-'));
const data = path.join(root, 'data');
const REPO = path.resolve(path.dirname(SMARTCAR_BIN), '..');

const smartcar = (args: string[], timeoutMs = 60_000) => smartcarAsync(args, { cwd: REPO, timeoutMs });

/** Exit 2 and exactly one `smartcar:` line on stderr, no stack trace; returns that line. */
async function refused(args: string[]): Promise<string> {
  const r = await smartcar(args);
  expect(r.stderr, args.join(' ')).not.toMatch(/^\s+at /m);
  expect(r.stderr, args.join(' ')).not.toMatch(/^\{"level"/m);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('smartcar: '));
  expect(lines, `${args.join(' ')}\n${r.stderr}`).toHaveLength(1);
  expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(2);
  return lines[0];
}

beforeAll(async () => {
  const store = await openTableStore({ kind: 'lmdb', path: path.join(data, 'table') });
  await ensureDriverTable(store);
  for (const line of ['20240101000000,A0001,3,0,F,N,130,A01', '20240101000000,B0001,1,0,F,N,60,B02']) {
    const r = parseDrivingRecord(line);
    if (!r.ok) throw new Error(`bad fixture ${line}`);
    await store.put(DRIVER_TABLE, driverRowKey(r.record.date, r.record.carNumber), drivingRecordCells(r.record));
  }
  await store.close();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('invalid calendar dates, everywhere through one validator', () => {
  it.each([
    [['sim', '--date', '20241301', '--data', path.join(root, 'sim')], /--date '20241301' is not a calendar date.*no month 13/],
    [['gen', 'driver', '--date', '20240230', '--out', path.join(root, 'x.log')], /--date '20240230' is not a calendar date.*2024-02 has no day 30/],
    [['gen', 'status', '--date', '20230229'], /--date '20230229' is not a calendar date/],
    [['up', '--date', '20241301', '--data', path.join(root, 'up')], /--date '20241301' is not a calendar date/],
    [['overspeed', '--date', '20241301'], /--date '20241301' is not a calendar date/],
    [['workflow', 'run', 'status', '--day', '20241301', '--data', data], /--day '20241301' is not a calendar date/],
    [['workflow', 'backfill', 'status', '--from', '20240101', '--to', '20240132', '--data', data], /--to '20240132' is not a calendar date/],
    [['gen', 'buylist', '--month', '202013'], /--month must be a month yyyyMM/],
  ])('%j', async (args, re) => {
    expect(await refused(args as string[])).toMatch(re as RegExp);
  });

  it('nothing was written for a refused simulation (no startMs: null in sim.json)', () => {
    expect(fs.existsSync(path.join(root, 'sim', 'state', 'sim.json'))).toBe(false);
  });
});

describe('paths that are not what the command needs: one line, not a stack trace', () => {
  it.each([
    [['gen', 'status', '--date', '20240101', '--cars', '1', '--out', '/etc/passwd'], /\/etc\/passwd is a file, not a directory/],
    [['gen', 'driver', '--cars', '1', '--records', '1', '--fast', '--out', os.tmpdir()], /is a directory; give a file/],
    [['load', 'master', os.tmpdir(), '--data', data], /the master file .* is a directory; give a file/],
    [['rules', 'test', 'rules/overspeed.epl', '--input', os.tmpdir()], /--input .* is a directory; give a file/],
  ])('%j', async (args, re) => {
    expect(await refused(args as string[])).toMatch(re as RegExp);
  });
});

describe('table scan validates its input', () => {
  it.each([
    ['cf1:speed>>120', /bad filter 'cf1:speed>>120'/],
    ['cf1:speed=>100', /bad filter 'cf1:speed=>100'/],
    ['=>100', /bad filter '=>100'/],
    ['cf1:spead>100', /no row of DriverCarInfo has it — did you mean 'cf1:speed'\?/],
    ['cf9:speed>100', /DriverCarInfo has no family 'cf9'/],
  ])('--filter %s', async (f, re) => {
    expect(await refused(['table', 'scan', 'DriverCarInfo', '--data', data, '--filter', f])).toMatch(re);
  });

  it.each(['abc', '0', '-1', '1.5'])('--limit %s', async (n) => {
    expect(await refused(['table', 'scan', 'DriverCarInfo', '--data', data, `--limit=${n}`])).toMatch(/--limit must be an integer 1\.\./);
  });

  it('a good filter and limit still work', async () => {
    const r = await smartcar(['table', 'scan', 'DriverCarInfo', '--data', data, '--filter', 'cf1:speed>100', '--limit', '5']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('A0001');
  });

  it('a typo\'d --data says so and creates nothing', async () => {
    const typo = path.join(root, 'dta');
    expect(await refused(['table', 'scan', 'DriverCarInfo', '--data', typo])).toMatch(/no data directory .*dta: check --data/);
    expect(fs.existsSync(typo)).toBe(false);
    expect(await refused(['sql', 'select 1', '--data', typo])).toMatch(/no data directory .*dta: check --data/);
  });

  it('a fresh data directory says to run stream or up first', async () => {
    const fresh = path.join(root, 'fresh');
    fs.mkdirSync(fresh);
    expect(await refused(['table', 'scan', 'DriverCarInfo', '--data', fresh])).toMatch(/run `smartcar up` or `smartcar stream --data .*` first/);
  });

  it('table commands take --postgres, as docs/table.md says', async () => {
    const r = await smartcar(['table', 'list', '--help']);
    expect(r.stdout).toContain('--postgres <url>');
  });
});

describe('sql next steps', () => {
  it('show tables lists smartcar_drive_info, as \\d does', async () => {
    const r = await smartcar(['sql', 'show tables', '--data', data]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^smartcar_drive_info\s*$/m);
  });

  it('a query on a mart no workflow has built says which workflow builds it', async () => {
    expect(await refused(['sql', 'select * from managed_smartcar_symptom_info', '--data', data]))
      .toMatch(/managed_smartcar_symptom_info is not built yet: the symptom workflow builds it \(smartcar workflow run symptom/);
    expect(await refused(['sql', 'select * from managed_smartcar_item_list_info', '--data', data])).toMatch(/the buylist workflow builds it/);
  });
});

describe('exit codes', () => {
  it('a usage error (unknown option, missing argument) exits 2', async () => {
    expect((await smartcar(['table', 'scan', '--bogus'])).status).toBe(2);
    expect((await smartcar(['gen', 'status'])).status).toBe(2);
  });
});
