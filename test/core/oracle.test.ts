/**
 * The suite's own record parser (test/support/spec.ts) against src/core: both read the same simulated
 * logs with garbage, and must accept exactly the same lines with the same values. A difference is a bug
 * in one of them; the spec decides which. The oracle's civil-time arithmetic is checked against the
 * JavaScript engine's Date.UTC over every day of four years and a sweep of seconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCarStatus, parseDrivingRecord, driverRowKey } from '../../src/core/records.ts';
import { driverLines, writeStatusDay } from '../../src/sim/index.ts';
import { civilSecond, civilTimestamp, specDriving, specLakeStatus, specRowKey, specStatus } from '../support/spec.ts';

describe('the suite\'s own spec parser', () => {
  it('counts civil seconds like Date.UTC, and back, over 1999–2002 and leap days', () => {
    for (let day = Date.UTC(1999, 0, 1); day < Date.UTC(2003, 0, 1); day += 86_400_000) {
      for (const off of [0, 3_599, 86_399]) {
        const ms = day + off * 1000;
        const d = new Date(ms);
        const ts = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`
          + `${String(d.getUTCHours()).padStart(2, '0')}${String(d.getUTCMinutes()).padStart(2, '0')}${String(d.getUTCSeconds()).padStart(2, '0')}`;
        expect(civilSecond(ts)).toBe(ms / 1000);
        expect(civilTimestamp(ms / 1000)).toBe(ts);
      }
    }
    for (const bad of ['20230229000000', '20240230000000', '21000229000000', '20240101240000', '20241301000000', '2024010100000', '2024010100000x']) {
      expect(civilSecond(bad)).toBeUndefined();
    }
    expect(civilSecond('20000229000000')).toBe(Date.UTC(2000, 1, 29) / 1000);
  });

  it('accepts exactly the driving lines src/core accepts, with the same fields (simulated log with 5% garbage)', () => {
    let good = 0, bad = 0;
    const differ: string[] = [];
    for (const line of driverLines({ cars: 20, seed: 12, startMs: Date.UTC(2024, 1, 28, 23, 50), records: 900, garbage: 0.05 })) {
      const a = parseDrivingRecord(line), b = specDriving(line);
      if ((b !== undefined) !== a.ok) differ.push(`${a.ok ? 'src only' : 'oracle only'}: ${line.slice(0, 80)}`);
      if (!a.ok || !b) { bad++; continue; }
      good++;
      const mine = [b.date, b.car, b.speedPedal, b.breakPedal, b.steer, b.light, b.speed, b.area, b.second * 1000, specRowKey(b.date, b.car)].join('|');
      const theirs = [a.record.date, a.record.carNumber, a.record.speedPedal, a.record.breakPedal, a.record.steerAngle, a.record.directLight, a.record.speed, a.record.areaNumber, a.record.eventTime, driverRowKey(a.record.date, a.record.carNumber)].join('|');
      if (mine !== theirs) differ.push(`fields: ${mine} vs ${theirs}`);
    }
    expect(differ.slice(0, 5)).toEqual([]);
    expect(good).toBe(20 * 900);
    expect(bad).toBeGreaterThan(500);
  });

  it('accepts exactly the status lines src/core accepts, raw and with the processing date (simulated day with garbage)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-oracle-'));
    try {
      const day = await writeStatusDay({ date: '20240229', cars: 2, outDir: dir, seed: 3, garbage: 0.02 });
      let good = 0, bad = 0;
      const differ: string[] = [];
      for (const line of fs.readFileSync(day.file, 'latin1').split('\n')) {
        const a = parseCarStatus(line), b = specStatus(line);
        // src/core also takes 14 fields (the lake form): the raw form is the 13-field one.
        if ((b !== undefined) !== (a.ok && a.record.wrkDate === undefined)) differ.push(`raw, ${a.ok ? 'src only' : 'oracle only'}: ${line.slice(0, 80)}`);
        const lake = specLakeStatus(`${line},20240301`), al = parseCarStatus(`${line},20240301`);
        if ((lake !== undefined) !== al.ok) differ.push(`lake, ${al.ok ? 'src only' : 'oracle only'}: ${line.slice(0, 80)}`);
        if (!b || !a.ok) { bad++; continue; }
        good++;
        const mine = [b.regDate, b.car, ...b.tires, ...b.lights, b.engine, b.brake, b.battery].join('|');
        const theirs = [a.record.regDate, a.record.carNumber, ...a.record.tires, ...a.record.lights, a.record.engine, a.record.brake, a.record.battery].join('|');
        if (mine !== theirs) differ.push(`fields: ${mine} vs ${theirs}`);
      }
      expect(differ.slice(0, 5)).toEqual([]);
      // A line truncated inside its last field (battery 95 → 9) is still a well-formed record: at least every good one.
      expect(good).toBeGreaterThanOrEqual(2 * 21_600);
      expect(good).toBeLessThan(2 * 21_600 + 20);
      expect(bad).toBeGreaterThan(500);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
