import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CepEngine, EplError, loadRules, watchRules, type CepOutput } from '../../src/cep/index.ts';
import { driverLines } from '../../src/sim/index.ts';
import { parseDrivingRecord, type DrivingRecord } from '../../src/core/records.ts';
import { formatTimestamp14, parseDate8 } from '../../src/core/time.ts';
import { expectedOverspeed, waitFor } from '../support/overspeed.ts';

const SEED_RULE = fs.readFileSync(new URL('../../rules/overspeed.epl', import.meta.url), 'utf8');
const VERBATIM = 'SELECT date, carNumber, speedPedal, breakPedal, steerAngle, directLight, speed, areaNumber FROM DriverCarInfoBean.win:time_batch(30 sec) GROUP BY carNumber HAVING AVG(speed) > 80';
const T0 = parseDate8('20240101');

/** A record for car `car` at `sec` seconds after T0 with `speed`. */
function rec(car: string, sec: number, speed: number): DrivingRecord {
  const date = formatTimestamp14(T0 + sec * 1000);
  return { date, carNumber: car, speedPedal: 1, breakPedal: 0, steerAngle: 'F', directLight: 'N', speed, areaNumber: 'A01', eventTime: T0 + sec * 1000 };
}

function run(epl: string, events: DrivingRecord[], opts: { lateness?: number; flush?: boolean } = {}) {
  const e = new CepEngine({ allowedLatenessMs: opts.lateness ?? 0 });
  const out: CepOutput[] = [];
  e.onOutput((o) => out.push(o));
  e.deploy(epl);
  for (const r of events) e.send('DrivingRecord', r as never, r.eventTime);
  if (opts.flush !== false) e.flush();
  return { e, out, rows: out.flatMap((o) => o.rows) };
}

describe('the seed statement', () => {
  it('runs verbatim and equals an independent per-car 30 s event-time computation over a seeded log with wild drivers', () => {
    const lines = [...driverLines({ cars: 200, seed: 17, startMs: T0, records: 900, garbage: 0.001 })];
    const events = lines.map(parseDrivingRecord).flatMap((p) => (p.ok ? [p.record] : []));
    const { rows, e } = run(VERBATIM, events);
    const got = new Map<string, Set<string>>();
    for (const r of rows) {
      const day = String(r.date).slice(0, 8);
      if (!got.has(day)) got.set(day, new Set());
      got.get(day)!.add(`${r.carNumber}-${r.date}`);
    }
    const expected = expectedOverspeed(lines);
    expect(got).toEqual(expected);
    expect(rows.length).toBe([...expected.values()].reduce((n, s) => n + s.size, 0));
    expect(rows.length).toBeGreaterThan(100);
    expect(e.stats().late).toBe(0);
  });

  it('reports the group\'s own car, its last event, its average and the window bounds (not the car of the next tuple)', () => {
    const events = [rec('A0001', 0, 100), rec('B0001', 1, 10), rec('A0001', 5, 90), rec('B0001', 6, 20), rec('C0001', 31, 50)];
    const { out } = run(SEED_RULE, events, { flush: false });
    expect(out).toHaveLength(1);
    expect(out[0].windowStart).toBe(T0);
    expect(out[0].windowEnd).toBe(T0 + 30_000);
    expect(out[0].rows).toEqual([{ date: '20240101000005', carNumber: 'A0001', speedPedal: 1, breakPedal: 0, steerAngle: 'F', directLight: 'N', speed: 90, areaNumber: 'A01', 'avg(speed)': 95 }]);
    expect(out[0].statement).toBe('Overspeed');
  });
});

describe('event-time windows', () => {
  it('emits a window holding a single event', () => {
    expect(run(VERBATIM, [rec('A0001', 10, 120)]).rows.map((r) => r.carNumber)).toEqual(['A0001']);
  });

  it('puts an event exactly on a boundary into the next window', () => {
    const { out } = run(VERBATIM, [rec('A0001', 29, 200), rec('A0001', 30, 10), rec('A0001', 31, 10)]);
    expect(out.map((o) => [o.windowStart! - T0, o.rows.length])).toEqual([[0, 1]]);
  });

  it('accepts late events within the allowed lateness and drops (and counts) those beyond it', () => {
    // Window [0,30) for A0001: avg of 100 alone is > 80; a late 0 km/h event would pull it to 50.
    const within = run(VERBATIM, [rec('A0001', 10, 100), rec('B0001', 35, 10), rec('A0001', 20, 0)], { lateness: 10_000 });
    expect(within.rows.filter((r) => r.carNumber === 'A0001')).toHaveLength(0);
    expect(within.e.stats().late).toBe(0);
    const beyond = run(VERBATIM, [rec('A0001', 10, 100), rec('B0001', 35, 10), rec('A0001', 20, 0)], { lateness: 2_000 });
    expect(beyond.rows.map((r) => r.carNumber)).toEqual(['A0001']);
    expect(beyond.e.stats().late).toBe(1);
  });

  it('closes the window of a car that stops sending when time moves on, and reclaims its state', () => {
    const { e, out } = run(VERBATIM, [rec('A0001', 1, 150), rec('B0001', 2, 10), ...Array.from({ length: 10 }, (_, i) => rec('B0001', 40 + i, 10))], { flush: false });
    expect(out.flatMap((o) => o.rows).map((r) => r.carNumber)).toEqual(['A0001']);
    expect(e.stats().groups).toBe(1); // only B0001's open window remains
    e.advanceWatermark(T0 + 120_000);
    expect(e.stats().groups).toBe(0);
    expect(e.pendingWindowStart()).toBeUndefined();
  });

  it('reports the earliest open window start for safe offset commits', () => {
    const { e } = run(VERBATIM, [rec('A0001', 1, 150), rec('A0001', 31, 150)], { flush: false });
    expect(e.pendingWindowStart()).toBe(T0 + 30_000);
  });

  it('evaluates HAVING with several aggregates', () => {
    const epl = 'select carNumber, count(*) as n, max(speed) as top from DrivingRecord.win:time_batch(30 sec) group by carNumber having avg(speed) > 80 and count(*) >= 3 and max(speed) < 250';
    const events = [
      ...[100, 100, 100].map((s, i) => rec('A0001', i, s)), // qualifies
      ...[100, 100].map((s, i) => rec('B0001', i, s)), // too few
      ...[250, 100, 100].map((s, i) => rec('C0001', i, s)), // max too high
      ...[50, 60, 70].map((s, i) => rec('D0001', i, s)), // too slow
    ];
    expect(run(epl, events).rows).toEqual([{ carNumber: 'A0001', n: 3, top: 100, 'avg(speed)': 100 }]);
  });
});

describe('every view', () => {
  const s = (car: string, sec: number, speed: number) => rec(car, sec, speed);
  it('win:time slides: each event outputs its group over the last period', () => {
    const { rows } = run('select carNumber, sum(speed) as total from DrivingRecord.win:time(10 sec) group by carNumber', [s('A0001', 0, 1), s('A0001', 5, 2), s('A0001', 12, 4), s('A0001', 30, 8)]);
    expect(rows.map((r) => r.total)).toEqual([1, 3, 6, 8]);
  });
  it('win:length keeps the last n events', () => {
    const { rows } = run('select avg(speed) as a, min(speed) as lo from DrivingRecord.win:length(2)', [s('A0001', 0, 10), s('A0001', 1, 20), s('A0001', 2, 60), s('A0001', 3, 0)]);
    expect(rows.map((r) => [r.a, r.lo])).toEqual([[10, 10], [15, 10], [40, 20], [30, 0]]);
  });
  it('win:length_batch emits every n events', () => {
    const { rows } = run('select count(*) as n, sum(speed) as s from DrivingRecord.win:length_batch(3)', [1, 2, 3, 4, 5, 6, 7].map((v, i) => s('A0001', i, v)));
    expect(rows).toEqual([{ n: 3, s: 6 }, { n: 3, s: 15 }, { n: 1, s: 7 }]);
  });
  it('win:ext_timed and win:ext_timed_batch take time from a property', () => {
    const events = [s('A0001', 0, 10), s('A0001', 20, 20), s('A0001', 61, 30)];
    const sliding = run('select sum(speed) as s from DrivingRecord.win:ext_timed(date, 1 min)', events).rows.map((r) => r.s);
    expect(sliding).toEqual([10, 30, 50]);
    const batch = run('select sum(speed) as s from DrivingRecord.win:ext_timed_batch(eventTime, 1 min)', events);
    expect(batch.out.map((o) => [o.windowStart! - T0, o.rows[0].s])).toEqual([[0, 30], [60_000, 30]]);
  });
  it('no view: aggregates over everything so far', () => {
    const { rows } = run('select count(distinct carNumber) as cars, stddev(speed) as sd from DrivingRecord', [s('A0001', 0, 2), s('B0001', 1, 4), s('A0001', 2, 6)]);
    expect(rows.map((r) => r.cars)).toEqual([1, 2, 2]);
    expect(rows[2].sd).toBeCloseTo(2, 10);
  });
});

describe('expressions and clauses', () => {
  it('filters with where, in, between, like and is null, orders and limits', () => {
    const events = [rec('A0001', 0, 10), rec('B0002', 1, 50), rec('C0003', 2, 90), rec('A0004', 3, 70)];
    const epl = `select carNumber, speed * 2 as dbl from DrivingRecord.win:time_batch(1 min)
      where carNumber in ('A0001', 'B0002', 'A0004') and speed between 20 and 100
        and (carNumber like 'A%' or areaNumber like 'B_1') and areaNumber is not null and not (carNumber not in ('A0004'))
      order by speed desc limit 2`;
    const { rows } = run(epl, events);
    expect(rows).toEqual([{ carNumber: 'A0004', dbl: 140 }]);
    const ordered = run('select carNumber, speed from DrivingRecord.win:time_batch(1 min) where not (speed < 20) order by speed desc limit 2 offset 1', events).rows;
    expect(ordered).toEqual([{ carNumber: 'A0004', speed: 70 }, { carNumber: 'B0002', speed: 50 }]);
  });

  it('keywords are case-insensitive and snake_case column names resolve', () => {
    const { rows } = run('SeLeCt car_number, AVG(speed) AS a FrOm DriverCarInfoBean.WIN:TIME_BATCH(1 MIN 30 SECONDS) GrOuP bY car_number', [rec('A0001', 0, 10), rec('A0001', 80, 30)]);
    expect(rows).toEqual([{ car_number: 'A0001', a: 20 }]);
  });

  it('output every p releases the rows of each interval; snapshot reports every group', () => {
    const events = Array.from({ length: 25 }, (_, i) => rec(i % 2 ? 'A0001' : 'B0001', i, 10 + i));
    const every = run('select carNumber, count(*) as n from DrivingRecord.win:time(1 min) group by carNumber output last every 10 sec', events, { flush: false });
    expect(every.out.map((o) => o.rows.length)).toEqual([2, 2]);
    const snap = run('select carNumber, count(*) as n from DrivingRecord.win:time(1 min) group by carNumber output snapshot every 10 sec', events, { flush: false });
    expect(snap.out[1].rows.map((r) => r.n).sort()).toEqual([10, 10]);
  });
});

describe('errors', () => {
  const err = (epl: string) => {
    try {
      new CepEngine().deploy(epl, 'rule.epl');
    } catch (e) {
      expect(e).toBeInstanceOf(EplError);
      return e as EplError;
    }
    throw new Error('expected an error');
  };
  it('points at line and column with a caret', () => {
    const e = err('select carNumber\nfrom DrivingRecord.win:time_batch(30 sec)\nhaving avg(speedd) > 80');
    expect([e.line, e.column]).toEqual([3, 12]);
    expect(e.message).toContain("unknown property 'speedd'");
    expect(e.message).toContain('rule.epl:3:12');
    expect(e.message.split('\n')[2]).toBe('  ' + ' '.repeat(11) + '^');
  });
  it.each([
    ['select * from Nope', "unknown event type 'Nope'"],
    ['select carNumber from DrivingRecord where avg(speed) > 3', 'not allowed in WHERE'],
    ['select carNumber from DrivingRecord.win:time_batch(30 sex)', "unknown time unit 'sex'"],
    ['select avg(max(speed)) from DrivingRecord', 'cannot be nested'],
    ['select carNumber from DrivingRecord.win:length(0)', 'positive whole number'],
    ['select carNumber from DrivingRecord.std:foo()', "unknown view namespace 'std'"],
    ['select carNumber from', 'expected an event type'],
    ["select carNumber from DrivingRecord where carNumber = 'A", 'unterminated string'],
  ])('%s → %s', (epl, msg) => {
    expect(err(epl).message).toContain(msg);
  });
});

describe('rule files', () => {
  it('hot-reloads a threshold change from the next window, and keeps the old version when an edit is broken', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-rules-'));
    fs.writeFileSync(path.join(dir, 'overspeed.epl'), SEED_RULE);
    const e = new CepEngine();
    const cars: string[] = [];
    e.onOutput((o) => cars.push(...o.rows.map((r) => `${r.carNumber}@${(o.windowStart! - T0) / 1000}`)));
    await loadRules(dir, e);
    const events: { ok: boolean; error?: string }[] = [];
    const w = watchRules(dir, e, (ev) => events.push(ev));
    try {
      e.send('DrivingRecord', rec('A0001', 0, 90) as never); // window 0: 90 > 80
      e.send('DrivingRecord', rec('A0001', 31, 90) as never); // closes window 0, opens window 30
      fs.writeFileSync(path.join(dir, 'overspeed.epl'), SEED_RULE.replace('> 80', '> 100'));
      await waitFor(() => events.length === 1, 5000, 'reload');
      expect(events[0].ok).toBe(true);
      e.send('DrivingRecord', rec('A0001', 61, 95) as never); // closes window 30 under the new threshold: 90 ≤ 100
      fs.writeFileSync(path.join(dir, 'overspeed.epl'), 'SELECT carNumber FROM DriverCarInfoBean.win:time_batch(30 sec) HAVING AVG(speed) >');
      await waitFor(() => events.length === 2, 5000, 'rejected edit');
      expect(events[1].ok).toBe(false);
      expect(events[1].error).toMatch(/overspeed\.epl:1:\d+/);
      e.send('DrivingRecord', rec('A0001', 62, 200) as never);
      e.send('DrivingRecord', rec('A0001', 95, 10) as never); // closes window 60: avg 147.5 > 100 under the previous (valid) rule
      expect(cars).toEqual(['A0001@0', 'A0001@60']);
    } finally {
      w.close();
    }
  });
});
