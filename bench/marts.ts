/**
 * `npm run bench:marts`
 *
 * 1. One day, 100 cars: 2,160,000 status rows + 4,320,000 driving rows (one record per car every 2 s,
 *    the original simulator's density) → all five marts, each timed.
 * 2. 30 days of status (64.8 M rows; BENCH_DAYS): the 30-day per-car battery trend over the raw text
 *    (baseline), then each day compacted to Parquet as its workflow does, then the emergency-check mart
 *    for one day and the same trend query.
 * 3. Side by side: the same day's status in PostgreSQL (127.0.0.1:5432, loaded with \copy), the same
 *    emergency-check and status-mart SQL, with the ratio. Both engines are timed the same way: in this
 *    process, over a connection opened beforehand (DuckDB's catalog; a `pg` client), so neither figure
 *    includes a process spawn or a connection set-up. Skipped with a note when PostgreSQL is down.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { writeStatusDay, writeMaster, writeBuyList, driverLines } from '../src/sim/index.ts';
import { buildMart, openCatalog, lakePaths, compactStatusDay } from '../src/sql/index.ts';
import { driverRowKey } from '../src/core/records.ts';
import { formatDate8, parseDate8 } from '../src/core/time.ts';

const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const PG = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-marts-'));
const lake = lakePaths(path.join(root, 'lake'));
const first = parseDate8('20240101');
const DAY = '20240101';
const secs = (t0: number) => (performance.now() - t0) / 1000;
const log = (s: string) => process.stdout.write(s + '\n');

async function statusDay(day: string): Promise<string> {
  const spool = path.join(root, 'spool');
  const f = await writeStatusDay({ date: day, cars: 100, outDir: spool, seed: Number(day) % 100000 });
  // What the collector writes: record lines with the processing date appended.
  const part = path.join(lake.status, `wrk_date=${day}`);
  fs.mkdirSync(part, { recursive: true });
  const out = path.join(part, 'car-batch-log.1.log');
  const r = spawnSync('sh', ['-c', `grep -aE '^[0-9]{14}' '${f.file}' | sed 's/$/,${day}/' > '${out}'`]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  fs.rmSync(f.file);
  return out;
}

function driveDay(day: string): void {
  const part = path.join(lake.drive, `wrk_date=${day}`);
  fs.mkdirSync(part, { recursive: true });
  const fd = fs.openSync(path.join(part, 'drive.csv'), 'w');
  let chunk: string[] = [];
  // 43,200 records per car: one every 2 s of the day.
  for (const line of driverLines({ cars: 100, seed: 7, startMs: parseDate8(day), records: 43_200 })) {
    if (!/^\d{14}/.test(line)) continue;
    const f = line.split(',');
    chunk.push(`${driverRowKey(f[0], f[1])},${line}`);
    if (chunk.length === 50_000) { fs.writeSync(fd, chunk.join('\n') + '\n'); chunk = []; }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
  fs.closeSync(fd);
}

log(`bench:marts — data in ${root} (${os.cpus().length} CPUs, DuckDB threads 2)`);
let t0 = performance.now();
fs.mkdirSync(lake.master, { recursive: true });
fs.copyFileSync(await writeMaster({ outDir: path.join(root, 'in'), seed: 1 }), path.join(lake.master, 'CarMaster.txt'));
fs.mkdirSync(lake.buylist, { recursive: true });
fs.copyFileSync(await writeBuyList({ outDir: path.join(root, 'in'), month: '202401', seed: 1 }), path.join(lake.buylist, 'CarItemBuyList_202401.txt'));
const statusFile = await statusDay(DAY);
driveDay(DAY);
log(`  generated one day (2.16 M status + 4.32 M driving rows) in ${secs(t0).toFixed(1)} s`);

// 1. One day → all five marts (the status workflows first compact the day's raw text to Parquet).
const opts = { dataDir: root };
let total = 0;
{
  const c = await openCatalog(opts);
  t0 = performance.now();
  const r = await compactStatusDay(c, lake, DAY);
  await c.close();
  total += secs(t0);
  log(`  compact status day       ${r.rows.toLocaleString('en-US').padStart(10)} rows to Parquet            ${secs(t0).toFixed(2)} s`);
}
for (const [mart, day] of [['status', DAY], ['drive', DAY], ['symptom', DAY], ['emergency-check', DAY], ['buylist', '202401'], ['buylist-items', '202401']] as const) {
  t0 = performance.now();
  const r = await buildMart(mart, day, opts);
  const s = secs(t0);
  total += s;
  log(`  mart ${mart.padEnd(16)} ${r.rows.toLocaleString('en-US').padStart(10)} rows from ${r.sourceRows.toLocaleString('en-US').padStart(10)}  ${s.toFixed(2)} s`);
}
log(`  all marts for one day: ${total.toFixed(2)} s (target ≤ 15 s)`);

// 2. 30 days of status.
t0 = performance.now();
for (let d = 1; d < DAYS; d++) await statusDay(formatDate8(first + d * 86_400_000));
log(`  generated ${DAYS} days of status (${(DAYS * 2.16).toFixed(1)} M rows) in ${secs(t0).toFixed(1)} s`);
const midDay = formatDate8(first + Math.floor(DAYS / 2) * 86_400_000);
const TREND = `SELECT car_number, wrk_date, avg(CAST(battery AS INTEGER)) AS battery_avg
  FROM smartcar_status_info GROUP BY car_number, wrk_date ORDER BY car_number, wrk_date`;
{
  // Baseline: the same trend over the raw text of every day (nothing compacted but the first day).
  const c = await openCatalog(opts);
  t0 = performance.now();
  await c.query(TREND);
  log(`  ${DAYS}-day battery trend over raw text (validated per line): ${secs(t0).toFixed(2)} s`);
  t0 = performance.now();
  for (let d = 1; d < DAYS; d++) await compactStatusDay(c, lake, formatDate8(first + d * 86_400_000));
  log(`  compacted ${DAYS - 1} more days to Parquet in ${secs(t0).toFixed(1)} s (${(secs(t0) / (DAYS - 1)).toFixed(2)} s per day, done once by each day's workflow)`);
  await c.close();
}
t0 = performance.now();
const ec = await buildMart('emergency-check', midDay, opts);
const ecSecs = secs(t0);
log(`  emergency-check mart for ${midDay} among ${DAYS} days: ${ecSecs.toFixed(2)} s, ${ec.rows} cars (target ≤ 5 s)`);
const cat = await openCatalog(opts);
t0 = performance.now();
const trend = await cat.query(TREND);
const trendSecs = secs(t0);
await cat.close();
log(`  ${DAYS}-day per-car battery trend (compacted): ${trend.rows.length.toLocaleString('en-US')} rows in ${trendSecs.toFixed(2)} s (target ≤ 10 s)`);

// 3. PostgreSQL side by side, one day.
const psql = (sql: string) => spawnSync('psql', [PG, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' });
if (psql('select 1').status !== 0) {
  log('  PostgreSQL at 127.0.0.1:5432 is not reachable: side-by-side comparison skipped');
} else {
  const schema = `bench_marts_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const cols = 'reg_date text, car_number text, tire_fl text, tire_fr text, tire_bl text, tire_br text, light_fl text, light_fr text, light_bl text, light_br text, engine text, break text, battery text, wrk_date text';
  psql(`create schema ${schema}; create table ${schema}.status (${cols}); create table ${schema}.master (car_number text, sex text, age text, marriage text, region text, job text, car_capacity text, car_year text, car_model text)`);
  t0 = performance.now();
  let r = psql(`\\copy ${schema}.status from '${statusFile}' csv`);
  if (r.status !== 0) throw new Error(r.stderr);
  r = psql(`\\copy ${schema}.master from '${path.join(lake.master, 'CarMaster.txt')}' csv delimiter '|'`);
  if (r.status !== 0) throw new Error(r.stderr);
  log(`  PostgreSQL: loaded the day (2.16 M rows) in ${secs(t0).toFixed(2)} s`);
  const pgEc = `select count(*) from (select car_number,
      case when least(avg(tire_fl::int), avg(tire_fr::int), avg(tire_bl::int), avg(tire_br::int)) < 80 then 'Tire Check' else '' end tire_check,
      case when bool_or('2' in (light_fl, light_fr, light_bl, light_br)) then 'Light Check' else '' end light_check,
      case when bool_or(engine = 'C') then 'Engine Check' else '' end engine_check,
      case when bool_or(break = 'C') then 'Brake Check' else '' end break_check,
      case when avg(battery::int) < 30 then 'Battery Check' else '' end battery_check
    from ${schema}.status where wrk_date = '${DAY}' group by car_number) x
    where tire_check <> '' or light_check <> '' or engine_check <> '' or break_check <> '' or battery_check <> ''`;
  const pgStatus = `create table ${schema}.status_mart as select m.*, s.tire_fl, s.tire_fr, s.tire_bl, s.tire_br, s.light_fl, s.light_fr, s.light_bl, s.light_br, s.engine, s.break, s.battery, s.reg_date
    from ${schema}.master m join ${schema}.status s on m.car_number = s.car_number where s.wrk_date = '${DAY}' and m.age::int >= 18`;
  const duck = await openCatalog(opts);
  const pgc = new pg.Client({ connectionString: PG });
  await pgc.connect();
  await pgc.query(`analyze ${schema}.status; analyze ${schema}.master`);
  const time = async (fn: () => Promise<unknown> | unknown) => { const t = performance.now(); await fn(); return secs(t); };
  const { martSql } = await import('../src/sql/index.ts');
  const dEc = await time(() => duck.query(`select count(*) from (${martSql('emergency-check', DAY)})`));
  // Both engines materialise the status mart as a table (DuckDB in memory, PostgreSQL on disk).
  const dSt = await time(() => duck.exec(`create table status_mart as ${martSql('status', DAY)}`));
  await duck.close();
  const pEc = await time(() => pgc.query(pgEc));
  const pSt = await time(() => pgc.query(pgStatus));
  await pgc.end();
  log(`  same SQL, one day, both in-process over open connections:`);
  log(`    emergency-check  DuckDB over the lake ${dEc.toFixed(2)} s vs PostgreSQL (pg client) ${pEc.toFixed(2)} s (DuckDB/PostgreSQL ${(dEc / pEc).toFixed(2)})`);
  log(`    status mart      DuckDB over the lake ${dSt.toFixed(2)} s vs PostgreSQL (pg client) ${pSt.toFixed(2)} s (DuckDB/PostgreSQL ${(dSt / pSt).toFixed(2)})`);
  psql(`drop schema ${schema} cascade`);
}
fs.rmSync(root, { recursive: true, force: true });
