/**
 * The daily data marts of the exploration stage (the original's Hive marts), built with DuckDB from the lake and written as Parquet partitions:
 *
 *   status            master (age ≥ 18) ⋈ status lines of wrk_date = day
 *   drive             master (age ≥ 18) ⋈ driving rows of wrk_date = day
 *   symptom           per car: speed/brake pedal averages flagged `abnormal` when |z| > 2 against the
 *                     population stddev of the car averages; sharp steering (L2 L3 R2 R3) count > 2000
 *   emergency-check   per car with a symptom: tire daily average < 80, any light = 2, engine = C,
 *                     brake = C, battery daily average < 30
 *   buylist           master (age ≥ 18) ⋈ purchases of the month (biz_month)
 *   buylist-items     per car, its distinct purchased items (biz_month)
 *
 * A rebuild writes the new partition beside the old one, checks it, then swaps the directories: a
 * crash before the swap leaves the previous partition as it was; a crash inside the swap is repaired
 * the next time the mart is built or read (`recoverPartitions`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths, DRIVER_TABLE, UserError } from '../core/index.ts';
import type { TableStore } from '../table/index.ts';
import type { Catalog } from './catalog.ts';
import { DRIVE_CELLS, MARTS, lakePaths, type MartName } from './lake.ts';
import { recoverPartitions, swapIn, tempPartition } from './partition.ts';

export { recoverPartitions };

const M = 'm.car_number, m.sex, m.age, m.marriage, m.region, m.job, m.car_capacity, m.car_year, m.car_model';

export function martSql(name: MartName, day: string): string {
  switch (name) {
    case 'status':
      return `SELECT ${M}, s.tire_fl, s.tire_fr, s.tire_bl, s.tire_br, s.light_fl, s.light_fr, s.light_bl, s.light_br,
          s.engine, s.break, s.battery, s.reg_date
        FROM smartcar_master_over18 m JOIN smartcar_status_info s ON m.car_number = s.car_number
        WHERE s.wrk_date = '${day}'`;
    case 'drive':
      return `SELECT ${M}, d.speed_pedal, d.break_pedal, d.steer_angle, d.direct_light, d.speed, d.area_number, d.r_date
        FROM smartcar_master_over18 m JOIN smartcar_drive_info_2 d ON m.car_number = d.car_number
        WHERE d.wrk_date = '${day}'`;
    case 'symptom':
      return `WITH per_car AS (
          SELECT car_number,
                 avg(TRY_CAST(speed_pedal AS DOUBLE)) AS sp,
                 avg(TRY_CAST(break_pedal AS DOUBLE)) AS bp,
                 count(*) FILTER (WHERE steer_angle IN ('L2', 'L3', 'R2', 'R3')) AS sc
          FROM managed_smartcar_drive_info WHERE biz_date = '${day}' GROUP BY car_number),
        pop AS (SELECT avg(sp) AS sp_avg, stddev_pop(sp) AS sp_std, avg(bp) AS bp_avg, stddev_pop(bp) AS bp_std FROM per_car)
        SELECT car_number,
               sp AS speed_p_avg,
               CASE WHEN sp_std > 0 AND abs((sp - sp_avg) / sp_std) > 2 THEN 'abnormal' ELSE 'normal' END AS speed_p_symptom,
               bp AS break_p_avg,
               CASE WHEN bp_std > 0 AND abs((bp - bp_avg) / bp_std) > 2 THEN 'abnormal' ELSE 'normal' END AS break_p_symptom,
               sc AS steer_a_cnt,
               CASE WHEN sc > 2000 THEN 'abnormal' ELSE 'normal' END AS steer_p_symptom
        FROM per_car, pop ORDER BY car_number`;
    case 'emergency-check':
      return `SELECT * FROM (
          SELECT car_number,
            CASE WHEN least(avg(TRY_CAST(tire_fl AS INTEGER)), avg(TRY_CAST(tire_fr AS INTEGER)),
                            avg(TRY_CAST(tire_bl AS INTEGER)), avg(TRY_CAST(tire_br AS INTEGER))) < 80 THEN 'Tire Check' ELSE '' END AS tire_check,
            CASE WHEN bool_or('2' IN (light_fl, light_fr, light_bl, light_br)) THEN 'Light Check' ELSE '' END AS light_check,
            CASE WHEN bool_or(engine = 'C') THEN 'Engine Check' ELSE '' END AS engine_check,
            CASE WHEN bool_or(break = 'C') THEN 'Brake Check' ELSE '' END AS break_check,
            CASE WHEN avg(TRY_CAST(battery AS INTEGER)) < 30 THEN 'Battery Check' ELSE '' END AS battery_check
          FROM smartcar_status_info WHERE wrk_date = '${day}' GROUP BY car_number)
        WHERE tire_check <> '' OR light_check <> '' OR engine_check <> '' OR break_check <> '' OR battery_check <> ''
        ORDER BY car_number`;
    case 'buylist':
      return `SELECT ${M}, b.item, b.score
        FROM smartcar_master_over18 m JOIN smartcar_item_buylist b ON m.car_number = b.car_number
        WHERE b.month = '${day}'`;
    case 'buylist-items':
      return `SELECT car_number, array_to_string(list_sort(list(DISTINCT item)), ',') AS items
        FROM smartcar_item_buylist WHERE month = '${day}' GROUP BY car_number ORDER BY car_number`;
  }
}

/** Rows of the day's source data, for the quality checks. */
function sourceSql(name: MartName, day: string): string {
  switch (name) {
    case 'status':
    case 'emergency-check': return `SELECT count(*) FROM smartcar_status_info WHERE wrk_date = '${day}'`;
    case 'drive': return `SELECT count(*) FROM smartcar_drive_info_2 WHERE wrk_date = '${day}'`;
    case 'symptom': return `SELECT count(*) FROM managed_smartcar_drive_info WHERE biz_date = '${day}'`;
    default: return `SELECT count(*) FROM smartcar_item_buylist WHERE month = '${day}'`;
  }
}

export interface QualityCheck { name: string; ok: boolean; detail: string }
export interface MartResult { mart: MartName; table: string; partition: string; rows: number; sourceRows: number; checks: QualityCheck[]; ms: number }

export function partitionKey(name: MartName, day: string): string {
  const monthly = MARTS[name].partition === 'biz_month';
  const key = monthly ? day.slice(0, 6) : day;
  if (!(monthly ? /^\d{6}$/ : /^\d{8}$/).test(key)) throw new UserError(`${name} needs a ${monthly ? 'yyyyMM month (or a yyyyMMdd day)' : 'yyyyMMdd day'}, got '${day}'`);
  return key;
}

const required: Record<MartName, string[]> = {
  status: ['car_number', 'reg_date'], drive: ['car_number', 'r_date'], symptom: ['car_number', 'speed_p_symptom', 'break_p_symptom', 'steer_p_symptom'],
  'emergency-check': ['car_number'], buylist: ['car_number', 'item'], 'buylist-items': ['car_number', 'items'],
};

export async function buildMartWith(cat: Catalog, name: MartName, day: string, warehouse: string): Promise<MartResult> {
  const t0 = performance.now();
  const key = partitionKey(name, day);
  const { table, partition } = MARTS[name];
  const martDir = path.join(warehouse, table);
  recoverPartitions(martDir);
  if (name === 'symptom' && !(await cat.tables()).includes('managed_smartcar_drive_info')) {
    throw new UserError(`the symptom mart reads the drive mart: build it first (smartcar workflow run drive --day ${key})`);
  }
  const tmp = tempPartition(martDir, `${partition}=${key}`);
  try {
    const file = path.join(tmp, 'data.parquet');
    await cat.exec(`COPY (${martSql(name, key)}) TO '${file.replace(/'/g, "''")}' (FORMAT parquet)`);
    const f = `read_parquet('${file.replace(/'/g, "''")}')`;
    const rows = Number((await cat.query(`SELECT count(*) FROM ${f}`)).rows[0][0]);
    const sourceRows = Number((await cat.query(sourceSql(name, key))).rows[0][0]);
    const checks: QualityCheck[] = [{ name: 'partition written', ok: fs.existsSync(file), detail: file }];
    for (const col of required[name]) {
      const nulls = Number((await cat.query(`SELECT count(*) FROM ${f} WHERE ${col} IS NULL`)).rows[0][0]);
      checks.push({ name: `${col} not null`, ok: nulls === 0, detail: `${nulls} null(s)` });
    }
    if (name === 'status' || name === 'drive' || name === 'buylist') {
      checks.push({
        name: 'rows when source has rows',
        ok: sourceRows === 0 || rows > 0,
        detail: `${rows} mart rows from ${sourceRows} source rows${sourceRows > 0 && rows === 0 ? ' — is the car master loaded? (smartcar load master FILE)' : ''}`,
      });
    }
    const failed = checks.filter((c) => !c.ok);
    if (failed.length) {
      throw new UserError(`data-quality check failed for ${table} ${partition}=${key}: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}; the previous partition is kept`);
    }
    swapIn(tmp, martDir, `${partition}=${key}`);
    return { mart: name, table, partition: `${partition}=${key}`, rows, sourceRows, checks, ms: performance.now() - t0 };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function buildMart(name: MartName, day: string, opts: { dataDir: string; table?: TableStore }): Promise<MartResult> {
  if (!(name in MARTS)) throw new UserError(`unknown mart '${name}' (${Object.keys(MARTS).join(', ')})`);
  // DuckDB is loaded on first use, so importing the SQL module stays light.
  const { openCatalog } = await import('./catalog.ts');
  const cat = await openCatalog(opts);
  try {
    return await buildMartWith(cat, name, day, lakePaths(dataPaths(opts.dataDir).lake).warehouse);
  } finally {
    await cat.close();
  }
}

/**
 * The daily copy of `DriverCarInfo` into the lake (`smartcar_drive_info_2`, partition wrk_date = the
 * day of r_date), written atomically as CSV.
 */
export async function copyDriveDay(day: string, opts: { dataDir: string; table: TableStore }): Promise<{ rows: number; file: string }> {
  if (!/^\d{8}$/.test(day)) throw new UserError(`day must be yyyyMMdd, got '${day}'`);
  const dir = path.join(lakePaths(dataPaths(opts.dataDir).lake).drive, `wrk_date=${day}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'drive.csv');
  const tmp = path.join(dir, `.drive.csv.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w');
  let rows = 0;
  try {
    const tables = await opts.table.listTables();
    if (tables.some((t) => t.name === DRIVER_TABLE)) {
      let chunk: string[] = [];
      for await (const r of opts.table.scan(DRIVER_TABLE, { filters: [{ column: DRIVE_CELLS[0], op: '~', value: `^${day}` }] })) {
        chunk.push([r.row, ...DRIVE_CELLS.map((cell) => r.cells[cell] ?? '')].join(','));
        rows++;
        if (chunk.length >= 10_000) {
          fs.writeSync(fd, chunk.join('\n') + '\n');
          chunk = [];
        }
      }
      if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return { rows, file };
}
