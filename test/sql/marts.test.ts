import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, beforeAll } from 'vitest';
import { buildMart, openCatalog, loadReference, recoverPartitions, copyDriveDay, lakePaths, compactStatusDay } from '../../src/sql/index.ts';
import { writeMaster, writeStatusDay, driverLines } from '../../src/sim/index.ts';
import { openTableStore, ensureDriverTable, drivingRecordCells } from '../../src/table/index.ts';
import { DRIVER_TABLE, driverRowKey, parseCarStatus, parseDrivingRecord } from '../../src/core/records.ts';
import { formatTimestamp14, parseDate8 } from '../../src/core/time.ts';
import { expectedEmergency } from '../support/emergency.ts';
import { smartcar } from '../support/platform.ts';
import type { DrivingRecord } from '../../src/core/records.ts';

const DAY = '20240105';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-marts-'));
const lake = lakePaths(path.join(root, 'lake'));
const statusDir = path.join(lake.status, `wrk_date=${DAY}`);
let statusLines: string[] = [];
let master: Map<string, { age: number }>;

/** A hand-made status line for a car at second `s` of DAY. */
function statusLine(car: string, s: number, v: Partial<{ tires: number[]; lights: number[]; engine: string; brake: string; battery: number }>): string {
  const ts = formatTimestamp14(parseDate8(DAY) + s * 1000);
  const t = v.tires ?? [90, 90, 90, 90], l = v.lights ?? [1, 1, 1, 1];
  return `${ts},${car},${t.join(',')},${l.join(',')},${v.engine ?? 'A'},${v.brake ?? 'A'},${v.battery ?? 90}`;
}

beforeAll(async () => {
  // The master: simulated, then adjusted so that D0002 belongs to a 16-year-old and Z0099 is missing.
  const file = await writeMaster({ outDir: path.join(root, 'in'), seed: 4 });
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('|'))
    .filter((r) => r[0] !== 'Z0099')
    .map((r) => (r[0] === 'D0002' ? [r[0], r[1], '16', ...r.slice(3)] : ['A0002', 'A0003', 'B0003'].includes(r[0]) ? [r[0], r[1], '40', ...r.slice(3)] : r));
  fs.writeFileSync(file, rows.map((r) => r.join('|')).join('\n') + '\n');
  loadReference('master', file, root);
  master = new Map(rows.map((r) => [r[0], { age: Number(r[2]) }]));

  // Bulk: 20 simulated cars for the day (with garbage), as the collector writes them (+ processing date).
  const day = await writeStatusDay({ date: DAY, cars: 20, outDir: path.join(root, 'in'), seed: 9, garbage: 0.0005 });
  const simulated = fs.readFileSync(day.file, 'latin1').split('\n').filter((l) => /^\d{14}/.test(l));
  // Hand-made cars: a tire failing late in the day (sticky, still drags the average under 80), a light
  // failing in the last minute, engine and brake at C, a flat battery, a car absent from the master,
  // and an owner under 18.
  const made: string[] = [];
  for (let s = 0; s < 86_400; s += 4) {
    const late = s >= 86_400 * 0.6;
    made.push(statusLine('A0002', s, { tires: [late ? 30 : 90, 90, 90, 90] }));
    made.push(statusLine('B0002', s, { lights: [1, 1, s >= 86_340 ? 2 : 1, 1] }));
    made.push(statusLine('C0002', s, { engine: s > 40_000 ? 'C' : 'A', brake: s > 80_000 ? 'C' : 'B' }));
    made.push(statusLine('D0002', s, { battery: 20 }));
    made.push(statusLine('Z0099', s, { battery: 10 }));
  }
  statusLines = [...simulated, ...made];
  fs.mkdirSync(statusDir, { recursive: true });
  fs.writeFileSync(path.join(statusDir, 'car-batch-log.1.log'), statusLines.map((l) => `${l},${DAY}`).join('\n') + '\n', 'latin1');
  // An in-progress file the catalog must not read.
  fs.writeFileSync(path.join(statusDir, 'car-batch-log.2.log.tmp'), statusLine('Y0001', 0, { engine: 'C' }) + `,${DAY}\n`);
});

describe('emergency-check mart', () => {
  it('equals the SEED §6 rules computed over the raw lines, including late sticky failures, cars absent from the master and minors', async () => {
    const r = await buildMart('emergency-check', DAY, { dataDir: root });
    expect(r.checks.every((c) => c.ok)).toBe(true);
    const cat = await openCatalog({ dataDir: root });
    const got = (await cat.query(`select car_number, tire_check, light_check, engine_check, break_check, battery_check from Managed_SmartCar_Emergency_Check_Info where biz_date = '${DAY}'`)).rows.map((x) => x.join('|')).sort();
    await cat.close();
    const expected = expectedEmergency(statusLines);
    expect(got).toEqual(expected);
    expect(got).toEqual(expect.arrayContaining([
      'A0002|Tire Check||||', 'B0002||Light Check|||', 'C0002|||Engine Check|Brake Check|', 'D0002|||||Battery Check', 'Z0099|||||Battery Check',
    ]));
    expect(got.some((x) => x.startsWith('Y0001'))).toBe(false); // the .tmp file was not read
    expect(r.rows).toBe(expected.length);
  });

  it('an empty day builds an empty partition', async () => {
    const r = await buildMart('emergency-check', '20240106', { dataDir: root });
    expect([r.rows, r.sourceRows]).toEqual([0, 0]);
  });
});

describe('status mart', () => {
  it('joins the master restricted to age ≥ 18: minors and cars absent from the master are left out', async () => {
    const r = await buildMart('status', DAY, { dataDir: root });
    const valid = statusLines.filter((l) => parseCarStatus(l).ok);
    const expected = valid.filter((l) => (master.get(l.split(',')[1])?.age ?? 0) >= 18).length;
    expect(r.rows).toBe(expected);
    const cat = await openCatalog({ dataDir: root });
    const cars = (await cat.query(`select distinct car_number from managed_smartcar_status_info where biz_date = '${DAY}'`)).rows.map((x) => x[0]);
    expect(cars).not.toContain('D0002');
    expect(cars).not.toContain('Z0099');
    expect(cars).toContain('A0002');
    const cols = (await cat.describe('managed_smartcar_status_info')).map((c) => c.column);
    expect(cols).toEqual(['car_number', 'sex', 'age', 'marriage', 'region', 'job', 'car_capacity', 'car_year', 'car_model', 'tire_fl', 'tire_fr', 'tire_bl', 'tire_br', 'light_fl', 'light_fr', 'light_bl', 'light_br', 'engine', 'break', 'battery', 'reg_date', 'biz_date']);
    await cat.close();
  });
});

describe('drive and symptom marts from the table store', () => {
  let adult: DrivingRecord[] = [];
  it('copies the day from DriverCarInfo, and flags pedal z-scores > 2 and sharp steering > 2,000 exactly as computed over the records', async () => {
    const table = await openTableStore({ kind: 'lmdb', path: path.join(root, 'table') });
    await ensureDriverTable(table);
    const start = parseDate8(DAY);
    const recs = [...driverLines({ cars: 40, seed: 5, startMs: start, records: 300 })].map(parseDrivingRecord).flatMap((p) => (p.ok ? [p.record] : []));
    // An outlier: a car that floors the accelerator, and one that steers sharply 2,100 times.
    for (let i = 0; i < 300; i++) {
      const date = formatTimestamp14(start + i * 1000);
      recs.push({ ...recs[0], date, carNumber: 'A0003', speedPedal: 5, breakPedal: 0, eventTime: start + i * 1000 });
    }
    for (let i = 0; i < 2100; i++) {
      const date = formatTimestamp14(start + i * 1000);
      recs.push({ ...recs[0], date, carNumber: 'B0003', steerAngle: i % 2 ? 'L2' : 'R3', eventTime: start + i * 1000 });
    }
    // Another day's rows must not be copied.
    recs.push({ ...recs[0], date: '20240106000001', carNumber: 'C0003', eventTime: parseDate8('20240106') + 1000 });
    await table.putMany(DRIVER_TABLE, recs.map((r) => ({ row: driverRowKey(r.date, r.carNumber), cells: drivingRecordCells(r) })));
    const copy = await copyDriveDay(DAY, { dataDir: root, table });
    expect(copy.rows).toBe(recs.length - 1);
    // smartcar_drive_info reads the table store itself.
    const live = await openCatalog({ dataDir: root, table });
    const [[n, top]] = (await live.query(`select count(*), max(r_key) from SmartCar_Drive_Info`)).rows;
    await live.close();
    expect(n).toBe(recs.length);
    expect(top).toMatch(/^\d{14}-[A-Z]\d{4}$/);
    // A long-lived catalog (the console, the SQL server) sees a later put once its copy is older than the bound.
    const longLived = await openCatalog({ dataDir: root, table, driveMaxAgeMs: 0 });
    expect((await longLived.query(`select count(*) from smartcar_drive_info`)).rows).toEqual([[recs.length]]);
    const late = { ...recs[0], date: '20240106000002', carNumber: 'D0003', eventTime: parseDate8('20240106') + 2000 };
    await table.putMany(DRIVER_TABLE, [{ row: driverRowKey(late.date, late.carNumber), cells: drivingRecordCells(late) }]);
    expect((await longLived.query(`select count(*) from smartcar_drive_info where car_number = 'D0003'`)).rows).toEqual([[1]]);
    await longLived.close();
    await table.close();

    const drive = await buildMart('drive', DAY, { dataDir: root });
    adult = recs.filter((r) => r.date.startsWith(DAY) && (master.get(r.carNumber)?.age ?? 0) >= 18);
    expect(drive.rows).toBe(adult.length);
    await buildMart('symptom', DAY, { dataDir: root });

    // Independent computation over the adult cars' records.
    const per = new Map<string, { sp: number[]; bp: number[]; sharp: number }>();
    for (const r of adult) {
      const c = per.get(r.carNumber) ?? { sp: [], bp: [], sharp: 0 };
      c.sp.push(r.speedPedal);
      c.bp.push(r.breakPedal);
      if (['L2', 'L3', 'R2', 'R3'].includes(r.steerAngle)) c.sharp++;
      per.set(r.carNumber, c);
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const flags = (key: 'sp' | 'bp') => {
      const avgs = [...per.values()].map((c) => avg(c[key]));
      const m = avg(avgs);
      const sd = Math.sqrt(avg(avgs.map((a) => (a - m) ** 2)));
      return new Map([...per].map(([car, c]) => [car, sd > 0 && Math.abs((avg(c[key]) - m) / sd) > 2 ? 'abnormal' : 'normal']));
    };
    const sp = flags('sp'), bp = flags('bp');
    const expected = [...per].map(([car, c]) => [car, sp.get(car), bp.get(car), c.sharp, c.sharp > 2000 ? 'abnormal' : 'normal'].join('|')).sort();
    const cat = await openCatalog({ dataDir: root });
    const got = (await cat.query(`select car_number, speed_p_symptom, break_p_symptom, steer_a_cnt, steer_p_symptom from managed_smartcar_symptom_info where biz_date = '${DAY}'`)).rows.map((x) => x.join('|')).sort();
    await cat.close();
    expect(got).toEqual(expected);
    expect(got.find((x) => x.startsWith('A0003'))).toContain('abnormal');
    expect(got.find((x) => x.startsWith('B0003'))).toMatch(/\|2100\|abnormal$/);
  });

  it("runs docs/ml.md's ranking queries (the seed's Impala SQL) unchanged through `smartcar sql`, equal to a computation over the records", () => {
    expect(adult.length).toBeGreaterThan(0);
    const doc = fs.readFileSync('docs/ml.md', 'utf8');
    const section = doc.slice(doc.indexOf('## Rankings'), doc.indexOf('\n## ', doc.indexOf('## Rankings') + 3));
    const queries = [...section.matchAll(/^smartcar sql "([^"]+)"/gm)].map((m) => m[1].replace("'20240101'", `'${DAY}'`));
    expect(queries).toHaveLength(2);
    const run = (q: string) => {
      const r = smartcar(['sql', '--data', root, '--format', 'json', q]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    // The symptom mart of the day: one row per adult car that drove that day.
    const symptom = run(queries[0]);
    expect(symptom.map((r) => r.car_number).sort()).toEqual([...new Set(adult.map((r) => r.carNumber))].sort());
    expect(new Set(symptom.map((r) => r.biz_date))).toEqual(new Set([DAY]));
    // Per area, the car(s) with the highest average speed: rank() keeps ties, so every car at the maximum.
    const sums = new Map<string, Map<string, { sum: number; n: number }>>();
    for (const r of adult) {
      const area = sums.get(r.areaNumber) ?? new Map<string, { sum: number; n: number }>();
      const c = area.get(r.carNumber) ?? { sum: 0, n: 0 };
      c.sum += r.speed; c.n++;
      area.set(r.carNumber, c);
      sums.set(r.areaNumber, area);
    }
    const expected: string[] = [];
    for (const [area, cars] of sums) {
      const avgs = [...cars].map(([car, c]) => [car, c.sum / c.n] as const);
      const top = Math.max(...avgs.map(([, a]) => a));
      for (const [car, a] of avgs) if (a === top) expected.push(`${area}|${car}|${a.toFixed(9)}|1`);
    }
    const got = run(queries[1]).map((r) => `${r.area_number}|${r.car_number}|${Number(r.speed_avg).toFixed(9)}|${r.ranking}`);
    expect(got.sort()).toEqual(expected.sort());
    expect(sums.size).toBeGreaterThan(1);
  });
});

describe('atomic partitions', () => {
  it('a crash before the swap leaves the previous partition; a crash inside the swap is repaired', async () => {
    await buildMart('emergency-check', DAY, { dataDir: root });
    const martDir = path.join(lake.warehouse, 'managed_smartcar_emergency_check_info');
    const final = path.join(martDir, `biz_date=${DAY}`);
    const before = fs.readFileSync(path.join(final, 'data.parquet'));
    // Crash mid-build: a half-written temp dir stays behind.
    fs.mkdirSync(path.join(martDir, `.biz_date=${DAY}.tmp-1-2`));
    fs.writeFileSync(path.join(martDir, `.biz_date=${DAY}.tmp-1-2`, 'data.parquet'), 'garbage');
    // Crash inside the swap: the old partition was moved aside and the new one never arrived.
    fs.renameSync(final, path.join(martDir, `.biz_date=${DAY}.old-123`));
    recoverPartitions(martDir);
    expect(fs.readdirSync(martDir).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(fs.readFileSync(path.join(final, 'data.parquet')).equals(before)).toBe(true);
  });

  it('a failed quality check keeps the previous partition', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-marts-q-'));
    fs.cpSync(path.join(root, 'lake'), path.join(dir, 'lake'), { recursive: true });
    await buildMart('status', DAY, { dataDir: dir });
    fs.rmSync(path.join(dir, 'lake', 'collect', 'car-master'), { recursive: true });
    await expect(buildMart('status', DAY, { dataDir: dir })).rejects.toThrow(/is the car master loaded/);
    const cat = await openCatalog({ dataDir: dir });
    expect(Number((await cat.query(`select count(*) from managed_smartcar_status_info`)).rows[0][0])).toBeGreaterThan(0);
    await cat.close();
  });
});

describe('status compaction', () => {
  it('rewrites a day as Parquet with the same rows, still reads files that arrive later, and is idempotent', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-compact-'));
    fs.cpSync(path.join(root, 'lake', 'collect', 'car-batch-log'), path.join(dir, 'lake', 'collect', 'car-batch-log'), { recursive: true });
    const cat = await openCatalog({ dataDir: dir });
    const count = async () => Number((await cat.query(`select count(*) from smartcar_status_info where wrk_date = '${DAY}'`)).rows[0][0]);
    const before = await count();
    expect(before).toBe(statusLines.filter((l) => parseCarStatus(l).ok).length);
    const p = lakePaths(path.join(dir, 'lake'));
    const c1 = await compactStatusDay(cat, p, DAY);
    expect([c1.rows, c1.skipped]).toEqual([before, false]);
    expect(fs.existsSync(path.join(p.statusCompact, `wrk_date=${DAY}`, 'data.parquet'))).toBe(true);
    expect(await count()).toBe(before);
    expect((await compactStatusDay(cat, p, DAY)).skipped).toBe(true);
    // A file collected after the compaction is read from the text until the next compaction.
    fs.writeFileSync(path.join(p.status, `wrk_date=${DAY}`, 'car-batch-log.9.log'), statusLine('Q0009', 0, {}) + `,${DAY}\n`);
    expect(await count()).toBe(before + 1);
    const c2 = await compactStatusDay(cat, p, DAY);
    expect([c2.rows, c2.skipped, c2.files]).toEqual([before + 1, false, 2]);
    expect(await count()).toBe(before + 1);
    await cat.close();
  });
});
