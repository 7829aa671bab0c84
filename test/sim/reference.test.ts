import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { writeMaster, writeBuyList, writeIncome, writeIncidents, INCIDENT_FEATURES } from '../../src/sim/index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-sim-ref-'));
const read = (f: string) => fs.readFileSync(f, 'utf8').trimEnd().split('\n');

describe('reference data sets', () => {
  it('car master: 2,600 rows, one per car number, every field in its domain', async () => {
    const rows = read(await writeMaster({ outDir: dir, seed: 1 })).map((l) => l.split('|'));
    expect(rows.length).toBe(2600);
    expect(new Set(rows.map((r) => r[0])).size).toBe(2600);
    for (const [car, sex, age, marriage, region, job, cc, year, model] of rows) {
      expect(car).toMatch(/^[A-Z](00\d\d|0100)$/);
      expect(['남', '여']).toContain(sex);
      expect(+age).toBeGreaterThanOrEqual(15);
      expect(+age).toBeLessThanOrEqual(70);
      expect(['기혼', '미혼']).toContain(marriage);
      expect(region.length).toBe(2);
      expect(['무직', '회사원', '자영업', '공무원', '학생']).toContain(job);
      expect([1000, 1200, 1500, 1700, 2000, 2500, 3000, 3500]).toContain(+cc);
      expect(+year).toBeGreaterThanOrEqual(2000);
      expect(+year).toBeLessThanOrEqual(2016);
      expect(model).toMatch(/^[A-H]$/);
    }
  });

  it('buy list: 100,000 rows of car,item,score,month', async () => {
    const rows = read(await writeBuyList({ outDir: dir, month: '202003', seed: 1 }));
    expect(rows.length).toBe(100_000);
    expect(rows.every((l) => /^[A-Z]\d{4},Item-0(0[1-9]|[12]\d|30),[1-5],202003$/.test(l))).toBe(true);
    await expect(writeBuyList({ outDir: dir, month: '202013' })).rejects.toThrow(/yyyyMM/);
  });

  it('income: header, capacities in 500 steps centred near 3000, income grows with capacity', async () => {
    const [header, ...rows] = read(await writeIncome({ outDir: dir, seed: 2, rows: 5000 }));
    expect(header).toBe('carNum|sex|age|marriage|region|job|capacity|year|type|income');
    const cc = rows.map((r) => +r.split('|')[6]);
    const income = rows.map((r) => +r.split('|')[9]);
    expect(cc.every((c) => c >= 1000 && c <= 5500 && c % 500 === 0)).toBe(true);
    const mean = cc.reduce((a, b) => a + b, 0) / cc.length;
    expect(Math.abs(mean - 3000)).toBeLessThan(100);
    rows.forEach((_, i) => {
      expect(income[i]).toBeGreaterThanOrEqual(cc[i] * 2);
      expect(income[i]).toBeLessThanOrEqual(cc[i] * 4 + 1000);
    });
  });

  it('incidents: ten features in 0–2 and the label computed by the seed rule', async () => {
    const [header, ...rows] = read(await writeIncidents({ outDir: dir, seed: 3, rows: 3000 }));
    expect(header.split(',')).toEqual([...INCIDENT_FEATURES, 'acciPos']);
    for (const row of rows) {
      const v = row.split(',').map(Number);
      expect(v.slice(0, 10).every((x) => x >= 0 && x <= 2)).toBe(true);
      let sum = v.slice(0, 10).reduce((a, b) => a + b, 0);
      if ([5, 6, 7, 8].some((i) => v[i] === 2)) sum += 5;
      expect(v[10]).toBe(sum > 15 ? 2 : sum >= 13 ? 1 : 0);
    }
    expect(new Set(rows.map((r) => r.at(-1))).size).toBe(3);
  });

  it('the CLI writes each set and explains a bad flag', () => {
    execFileSync(process.execPath, ['bin/smartcar.js', 'gen', 'master', '--seed', '1', '--out', path.join(dir, 'cli')], { stdio: 'pipe' });
    expect(fs.existsSync(path.join(dir, 'cli', 'CarMaster.txt'))).toBe(true);
    let err = '';
    try {
      execFileSync(process.execPath, ['bin/smartcar.js', 'gen', 'status', '--date', '2024-01-01'], { stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toContain('--date must be a date yyyyMMdd');
  });
});
