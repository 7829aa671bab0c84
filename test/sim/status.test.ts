import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeStatusDay, CarStatusState } from '../../src/sim/index.ts';
import { STATUS_HEADER, parseCarStatus } from '../../src/core/records.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-sim-status-'));
let lines: string[];

beforeAll(async () => {
  const r = await writeStatusDay({ date: '20240229', cars: 12, outDir: dir, seed: 42 });
  lines = fs.readFileSync(r.file, 'utf8').split('\n');
});

describe('status day file', () => {
  it('is named after the day and ends with a newline, with no temporary file left', () => {
    expect(fs.readdirSync(dir)).toEqual(['SmartCarStatusInfo_20240229.txt']);
    expect(lines.at(-1)).toBe('');
  });

  it('has exactly 21,600 records per car from 000000 to 235956, every 4 s, and never 240000', () => {
    const perCar = new Map<string, string[]>();
    for (const l of lines) {
      if (!/^\d{14}/.test(l)) continue;
      const [ts, car] = l.split(',');
      if (!perCar.has(car)) perCar.set(car, []);
      perCar.get(car)!.push(ts);
    }
    expect(perCar.size).toBe(12);
    for (const ts of perCar.values()) {
      expect(ts.length).toBe(21_600);
      expect(ts[0]).toBe('20240229000000');
      expect(ts.at(-1)).toBe('20240229235956');
      expect(ts.some((t) => t.endsWith('240000'))).toBe(false);
    }
  });

  it('writes one header line per car, just before its first record', () => {
    const headers = lines.map((l, i) => [l, i] as const).filter(([l]) => l === STATUS_HEADER);
    expect(headers.length).toBe(12);
    const firstCars = headers.map(([, i]) => lines[i + 1].split(',')[1]);
    expect(new Set(firstCars).size).toBe(12);
    for (const [, i] of headers) expect(lines[i + 1].slice(8, 14)).toBe('000000');
  });

  it('writes 13 fields in their domains, and interleaves the cars within a tick', () => {
    const records = lines.filter((l) => /^\d{14}/.test(l));
    const bad = records.filter((l) => l.split(',').length !== 13 || !parseCarStatus(l).ok);
    expect(bad).toEqual([]);
    expect(records.length).toBe(12 * 21_600);
    // Not always the same car order within each tick.
    const orders = new Set<string>();
    for (let t = 0; t < 20; t++) orders.add(records.slice(t * 12, t * 12 + 12).map((l) => l.split(',')[1]).join());
    expect(orders.size).toBeGreaterThan(1);
  });

  it('is byte-identical for the same seed, and differs for another seed', async () => {
    const a = await writeStatusDay({ date: '20240101', cars: 3, outDir: path.join(dir, 'a'), seed: 9 });
    const b = await writeStatusDay({ date: '20240101', cars: 3, outDir: path.join(dir, 'b'), seed: 9 });
    const c = await writeStatusDay({ date: '20240101', cars: 3, outDir: path.join(dir, 'c'), seed: 10 });
    expect(fs.readFileSync(a.file).equals(fs.readFileSync(b.file))).toBe(true);
    expect(fs.readFileSync(a.file).equals(fs.readFileSync(c.file))).toBe(false);
  });

  it('rejects an impossible date with a clear message', async () => {
    await expect(writeStatusDay({ date: '20240230', cars: 1, outDir: dir })).rejects.toThrow(/valid yyyyMMdd/);
  });
});

/** Binomial tolerance: |observed − expected| within 5 standard deviations. */
function within(observed: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p), `observed ${observed}, expected ${n * p} ± ${5 * sd}`).toBeLessThanOrEqual(5 * sd + 1e-9);
}

describe('status value distributions', () => {
  it('draws tires, batteries and grades with the seed weights', () => {
    let seed = 0x1234;
    // A fresh car per sample block keeps sticky failures from skewing the shares.
    const n = 400_000;
    let tireHigh = 0, tireMid = 0, battHigh = 0, battMid = 0, gradeA = 0, gradeB = 0;
    for (let i = 0; i < n; i++) {
      const car = new CarStatusState(() => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296));
      const t = car.tire(0);
      if (t >= 80 && t <= 100) tireHigh++;
      else if (t >= 70 && t <= 79) tireMid++;
      const b = car.batteryLevel();
      if (b >= 80) battHigh++;
      else if (b >= 50) battMid++;
      const g = car.grade(false);
      if (g === 65) gradeA++;
      else if (g === 66) gradeB++;
    }
    within(tireHigh, n, 0.8);
    within(tireMid, n, 0.199998);
    within(battHigh, n, 0.9);
    within(battMid, n, 0.099998);
    within(gradeA, n, 0.8);
    within(gradeB, n, 0.199998);
  });

  it('fails rarely (weight 0.0002 of 100) and keeps a failure for the rest of the day', () => {
    let s = 77;
    const rng = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    const n = 5_000_000;
    let failures = 0;
    for (let i = 0; i < n; i++) if (new CarStatusState(rng).light(0) === 2) failures++;
    within(failures, n, 0.000002);
    // Forced failure: a generator that returns values just below 1 picks the failure range.
    let calls = 0;
    const car = new CarStatusState(() => (calls++ === 0 ? 0.9999999 : 0.5));
    const failed = car.tire(1);
    expect(failed).toBeLessThan(70);
    for (let i = 0; i < 100; i++) expect(car.tire(1)).toBe(failed);
    const c2 = new CarStatusState(() => 0.9999999);
    expect(c2.grade(true)).toBe(67);
    const c3 = new CarStatusState(() => 0.1);
    expect(c3.grade(false)).toBe(65);
  });
});
