import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeBuyList, writeMaster } from '../../src/sim/index.ts';
import { buildMart, loadReference, openCatalog } from '../../src/sql/index.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-sqlcli-'));
const inDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-sqlcli-in-'));
let buy: string[][];
let ages: Map<string, number>;

beforeAll(async () => {
  const m = await writeMaster({ outDir: inDir, seed: 3 });
  ages = new Map(fs.readFileSync(m, 'utf8').trim().split('\n').map((l) => l.split('|')).map((r) => [r[0], Number(r[2])]));
  const b = await writeBuyList({ outDir: inDir, month: '202003', seed: 3, rows: 5000 });
  buy = fs.readFileSync(b, 'utf8').trim().split('\n').map((l) => l.split(','));
  const r1 = spawnSync(process.execPath, ['bin/smartcar.js', 'load', 'master', m, '--data', dataDir], { encoding: 'utf8' });
  expect(r1.status, r1.stderr).toBe(0);
  loadReference('buylist', b, dataDir);
});

const sql = (...args: string[]) => spawnSync(process.execPath, ['bin/smartcar.js', 'sql', '--data', dataDir, ...args], { encoding: 'utf8', input: '' });

describe('smartcar sql', () => {
  it('answers with the seed\'s mixed-case table names, in table, csv and json', () => {
    const t = sql("select count(*) as n from SmartCar_Item_BuyList where month = '202003'");
    expect(t.stdout).toMatch(/n\s*\n─+\n5000\s*\n\(1 row\)/);
    expect(sql('--format', 'csv', 'select car_number, age from smartcar_master order by car_number limit 2').stdout.split('\n')[0]).toBe('car_number,age');
    const j = sql('--format', 'json', 'select count(*) as n from smartcar_master_over18').stdout.trim();
    expect(JSON.parse(j).n).toBe([...ages.values()].filter((a) => a >= 18).length);
  });

  it('explains a bad query and exits non-zero', () => {
    const r = sql('select nope from smartcar_master');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('query failed');
    expect(r.stderr).toContain('nope');
  });

  it('the shell lists and describes tables and times queries', () => {
    const r = spawnSync(process.execPath, ['bin/smartcar.js', 'sql', '--data', dataDir], { encoding: 'utf8', input: '\\d\n\\d smartcar_master\nselect 6 *\n7 as x;\n\\q\n' });
    expect(r.stdout).toContain('smartcar_status_info');
    expect(r.stdout).toMatch(/car_capacity\s*│\s*VARCHAR/);
    expect(r.stdout).toMatch(/x\s*\n─+\n42/);
    expect(r.stdout).toMatch(/Time: \d+\.\d{3} s/);
  });

  it('refuses to load a file that is not a car master', () => {
    const bad = path.join(inDir, 'bad.txt');
    fs.writeFileSync(bad, 'hello\nworld\n');
    const r = spawnSync(process.execPath, ['bin/smartcar.js', 'load', 'master', bad, '--data', dataDir], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('has no car master');
  });
});

describe('buy-list marts', () => {
  it('join the adult owners\' purchases of the month, and list each car\'s distinct items', async () => {
    const r = await buildMart('buylist', '20200315', { dataDir });
    expect(r.partition).toBe('biz_month=202003');
    expect(r.rows).toBe(buy.filter((b) => (ages.get(b[0]) ?? 0) >= 18).length);
    await buildMart('buylist-items', '202003', { dataDir });
    const expected = new Map<string, Set<string>>();
    for (const [car, item] of buy) {
      if (!expected.has(car)) expected.set(car, new Set());
      expected.get(car)!.add(item);
    }
    const cat = await openCatalog({ dataDir });
    const got = (await cat.query(`select car_number, items from managed_smartcar_item_list_info where biz_month = '202003'`)).rows;
    await cat.close();
    expect(got.length).toBe(expected.size);
    for (const [car, items] of got as [string, string][]) expect(items).toBe([...expected.get(car)!].sort().join(','));
  });
});
