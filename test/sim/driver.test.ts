import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Driver, driverLines, runDriverLog, rngFor } from '../../src/sim/index.ts';
import { DRIVER_HEADER, parseDrivingRecord } from '../../src/core/records.ts';
import { parseDate8 } from '../../src/core/time.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-sim-driver-'));
const START = parseDate8('20240101');
const CONGESTED = new Set(['A10', 'B02', 'C04', 'D05', 'E10', 'F06']);

function within(observed: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p), `observed ${observed}, expected ${n * p} ± ${5 * sd}`).toBeLessThanOrEqual(5 * sd + 1e-9);
}

describe('driving records', () => {
  it('writes one header per car, then one record per car per simulated second, all parseable', () => {
    const lines = [...driverLines({ cars: 50, seed: 1, startMs: START, records: 20 })];
    expect(lines.filter((l) => l === DRIVER_HEADER).length).toBe(50);
    const recs = lines.filter((l) => l !== DRIVER_HEADER).map((l) => parseDrivingRecord(l));
    expect(recs.every((r) => r.ok)).toBe(true);
    expect(recs.length).toBe(1000);
    const a1 = recs.flatMap((r) => (r.ok && r.record.carNumber === 'A0001' ? [r.record.date] : []));
    expect(a1[0]).toBe('20240101000000');
    expect(a1[19]).toBe('20240101000019');
  });

  it('has 10% wild drivers and keeps each car in one area group', () => {
    const n = 20_000;
    let wild = 0;
    for (let i = 0; i < n; i++) if (new Driver(i, rngFor(5, i)).wild) wild++;
    within(wild, n, 0.1);
    const groups = new Map<string, Set<string>>();
    for (const l of driverLines({ cars: 40, seed: 2, startMs: START, records: 50 })) {
      const p = parseDrivingRecord(l);
      if (!p.ok) continue;
      if (!groups.has(p.record.carNumber)) groups.set(p.record.carNumber, new Set());
      groups.get(p.record.carNumber)!.add(p.record.areaNumber[0]);
    }
    for (const g of groups.values()) expect(g.size).toBe(1);
  });

  it('follows the pedal, brake, steering and indicator weights, and keeps speed within 0..250', () => {
    const n = 300;
    const drivers = Array.from({ length: n }, (_, i) => new Driver(i, rngFor(3, i)));
    const normalPedal = [0, 0, 0, 0, 0, 0];
    const wildSteerF = [0, 0];
    let normalRecords = 0, wildRecords = 0, normalBrake = 0, normalBrakeLevel1 = 0, badSignal = 0, congestedFast = 0;
    for (let round = 0; round < 400; round++) {
      for (const d of drivers) {
        const before = d.speed;
        const f = d.next('20240101000000').split(',');
        const pedal = +f[2], brake = +f[3], speed = +f[6];
        expect(speed).toBeGreaterThanOrEqual(0);
        expect(speed).toBeLessThanOrEqual(250);
        if (pedal !== 0) expect(brake).toBe(0);
        if (CONGESTED.has(f[7]) && speed > Math.floor(Math.min(250, before + 40) * 0.3)) congestedFast++;
        if (d.wild) {
          wildRecords++;
          if (f[4] === 'F') wildSteerF[0]++;
        } else {
          normalRecords++;
          normalPedal[pedal]++;
          if (pedal === 0) {
            normalBrake++;
            if (brake === 1) normalBrakeLevel1++;
          }
          const expected = f[4] === 'F' ? 'N' : f[4][0];
          if (f[5] !== expected) badSignal++;
        }
      }
    }
    [30, 30, 10, 20, 5, 5].forEach((w, i) => within(normalPedal[i], normalRecords, w / 100));
    within(normalBrakeLevel1, normalBrake, 0.45);
    within(wildSteerF[0], wildRecords, 0.4);
    expect(badSignal).toBe(0);
    expect(congestedFast).toBe(0);
  });

  it('reaches the 250 km/h cap for wild drivers on long runs, never above', () => {
    let max = 0;
    for (const l of driverLines({ cars: 20, seed: 8, startMs: START, records: 2000 })) {
      const p = parseDrivingRecord(l);
      if (p.ok) max = Math.max(max, p.record.speed);
    }
    expect(max).toBe(250);
  });

  it('is identical for the same seed, and appends the same bytes as driverLines', async () => {
    const file = path.join(dir, 'same.log');
    await runDriverLog({ cars: 7, out: file, seed: 4, startMs: START, records: 30, fast: true });
    const expected = [...driverLines({ cars: 7, seed: 4, startMs: START, records: 30 })].join('\n') + '\n';
    expect(fs.readFileSync(file, 'utf8')).toBe(expected);
    const other = [...driverLines({ cars: 7, seed: 5, startMs: START, records: 30 })].join('\n') + '\n';
    expect(other).not.toBe(expected);
  });

  it('paces records by wall time with --speedup', async () => {
    const file = path.join(dir, 'paced.log');
    const t0 = Date.now();
    await runDriverLog({ cars: 3, out: file, seed: 1, startMs: START, records: 20, speedup: 40 });
    const took = Date.now() - t0;
    // 20 simulated seconds at 40× ≈ 0.5 s of wall time.
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(3000);
  });
});

describe('garbage injection', () => {
  it('adds malformed lines at the requested rate and keeps every good record', () => {
    const clean = [...driverLines({ cars: 100, seed: 6, startMs: START, records: 200 })];
    const dirty = [...driverLines({ cars: 100, seed: 6, startMs: START, records: 200, garbage: 0.05 })];
    const good = dirty.filter((l) => parseDrivingRecord(l).ok);
    expect(good).toEqual(clean.filter((l) => l !== DRIVER_HEADER));
    const bad = dirty.filter((l) => l !== DRIVER_HEADER && !parseDrivingRecord(l).ok);
    within(bad.length, 20_000, 0.05);
    expect(bad.some((l) => l === '')).toBe(true);
    expect(bad.some((l) => l.length > 65_536)).toBe(true);
    expect(bad.some((l) => /[\xff\xfe]/.test(l))).toBe(true);
    expect(dirty.filter((l) => l === DRIVER_HEADER).length).toBe(100);
  });
});

describe('real-time writer as a process', () => {
  it('stops cleanly on SIGTERM mid-stream, leaving only complete lines', async () => {
    const file = path.join(dir, 'live.log');
    const p = spawn(process.execPath, ['bin/smartcar.js', 'gen', 'driver', '--cars', '300', '--speedup', '200', '--seed', '3', '--out', file], { stdio: 'pipe' });
    // Mid-stream: wait until the file holds a few thousand bytes (more than the headers), however slow the start.
    const deadline = Date.now() + 90_000;
    while (!(fs.existsSync(file) && fs.statSync(file).size > 20_000) && p.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fs.statSync(file).size).toBeGreaterThan(20_000);
    expect(p.exitCode).toBeNull();
    const code = await new Promise<number | null>((resolve) => {
      p.once('exit', (c) => resolve(c));
      p.kill('SIGTERM');
    });
    expect(code).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines.every((l) => l === DRIVER_HEADER || parseDrivingRecord(l).ok)).toBe(true);
  });
});
