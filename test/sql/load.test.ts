import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/sql/index.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-load-'));
const inDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-load-in-'));
const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/smartcar.js', ...args], { encoding: 'utf8', input: '' });

beforeAll(() => {
  for (const kind of ['income', 'incidents']) {
    const g = cli('gen', kind, '--out', inDir, '--seed', '5', ...(kind === 'incidents' ? ['--rows', '3000'] : []));
    expect(g.status, g.stderr).toBe(0);
  }
  expect(cli('load', 'income', path.join(inDir, 'CarMaster2Income.txt'), '--data', dataDir).status).toBe(0);
  expect(cli('load', 'incidents', path.join(inDir, 'CarDrivingIncidentInfo.csv'), '--data', dataDir).status).toBe(0);
});

describe('smartcar load income | incidents', () => {
  it('makes smartcar_master2income a table with the seed\'s columns, integers for capacity and income, header skipped', async () => {
    // Independent of the loader: split the file by hand.
    const rows = fs.readFileSync(path.join(inDir, 'CarMaster2Income.txt'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('|'));
    const cat = await openCatalog({ dataDir });
    try {
      const cols = (await cat.describe('smartcar_master2income')).map((c) => `${c.column}:${c.type}`);
      expect(cols).toEqual(['car_number:VARCHAR', 'sex:VARCHAR', 'age:VARCHAR', 'marriage:VARCHAR', 'region:VARCHAR', 'job:VARCHAR',
        'car_capacity:INTEGER', 'car_year:VARCHAR', 'car_model:VARCHAR', 'income:INTEGER']);
      const r = await cat.query('select count(*), sum(income), sum(car_capacity) from SmartCar_Master2Income');
      expect(r.rows[0]).toEqual([rows.length, rows.reduce((s, x) => s + Number(x[9]), 0), rows.reduce((s, x) => s + Number(x[6]), 0)]);
      expect(rows.length).toBe(2600);
    } finally {
      await cat.close();
    }
  });

  it('makes the incident set a table whose label counts equal the file\'s', async () => {
    const labels = fs.readFileSync(path.join(inDir, 'CarDrivingIncidentInfo.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[10]);
    const cat = await openCatalog({ dataDir });
    try {
      const r = await cat.query('select acciPos, count(*)::int from smartcar_driving_incident_info group by 1 order by 1');
      const want = ['0', '1', '2'].map((k) => [Number(k), labels.filter((l) => l === k).length]).filter(([, n]) => n > 0);
      expect(r.rows).toEqual(want);
      expect(labels.length).toBe(3000);
    } finally {
      await cat.close();
    }
  });

  it('refuses a directory, and a file of the wrong kind, with one line and exit code 2', () => {
    const dir = cli('load', 'income', inDir, '--data', dataDir);
    expect(dir.status).toBe(2);
    expect(dir.stderr.trim()).toMatch(/the income file .* is a directory; give a file$/);
    const wrong = cli('load', 'incidents', path.join(inDir, 'CarMaster2Income.txt'), '--data', dataDir);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/has no driving-incident/);
  });
});
