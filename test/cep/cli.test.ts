import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CepEngine } from '../../src/cep/index.ts';
import { expectedOverspeed } from '../support/overspeed.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-rules-cli-'));
const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/smartcar.js', 'rules', ...args], { encoding: 'utf8' });

describe('smartcar rules', () => {
  it('check validates rule files and points at errors with line and caret', () => {
    const good = cli('check', 'rules/overspeed.epl');
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('ok  Overspeed');
    const bad = path.join(dir, 'bad.epl');
    fs.writeFileSync(bad, '// a comment\nselect carNumber from DriverCarInfoBean.win:time_batch(30 sec)\nhaving avg(sped) > 80\n');
    const r = cli('check', bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}:3:12: unknown property 'sped'`);
    expect(r.stderr).toMatch(/\n\s+\^/);
  });

  it('test replays a driving log with garbage through a rule and prints the independent computation\'s alerts', () => {
    const log = path.join(dir, 'drive.log');
    const g = spawnSync(process.execPath, ['bin/smartcar.js', 'gen', 'driver', '--cars', '40', '--date', '20240101', '--records', '300', '--fast', '--seed', '9', '--garbage', '0.01', '--out', log], { encoding: 'utf8' });
    expect(g.status).toBe(0);
    const r = cli('test', 'rules/overspeed.epl', '--input', log, '--format', 'json');
    expect(r.status).toBe(0);
    const got = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { carNumber: string; date: string });
    const expected = expectedOverspeed(fs.readFileSync(log, 'latin1').split('\n'));
    expect(new Set(got.map((x) => `${x.carNumber}-${x.date}`))).toEqual(expected.get('20240101'));
    expect(r.stderr).toMatch(/12000 records, \d+ lines skipped/);
  });
});

describe('wall-clock mode', () => {
  it('stamps events on arrival and closes windows with the machine clock', async () => {
    const e = new CepEngine({ clock: 'wall' });
    const rows: unknown[] = [];
    e.onOutput((o) => rows.push(...o.rows));
    e.deploy('select carNumber, count(*) as n from DrivingRecord.win:time_batch(500 msec) group by carNumber');
    // Event times in the past are ignored: arrival time counts.
    e.send('DrivingRecord', { carNumber: 'A0001', eventTime: 0 }, 0);
    e.send('DrivingRecord', { carNumber: 'A0001', eventTime: 0 }, 0);
    // The window closes on the machine clock: wait for it (a loaded machine may fire timers late).
    const end = Date.now() + 30_000;
    while (rows.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    e.close();
    expect(rows).toEqual([{ carNumber: 'A0001', n: 2 }]);
  });
});
