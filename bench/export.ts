/**
 * `npm run bench:export` — `smartcar export` of a 1,000,000-row mart day (8 columns, the seed's
 * symptom table) into the machine's PostgreSQL, against `psql \copy` of the same rows as CSV into
 * the same DDL, in the same run. Best of BENCH_RUNS; ratio of rows/s (target ≥ 0.8).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { openCatalog, lakePaths } from '../src/sql/index.ts';

const PG = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = 1_000_000;
const DAY = '20240101';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-export-'));
const id = crypto.randomBytes(3).toString('hex');
const ours = `bench_export_${id}`;
const theirs = `bench_copy_${id}`;
const log = (s: string) => process.stdout.write(s + '\n');
const url = new URL(PG);
const pgEnv = { ...process.env, PGDATABASE: url.pathname.slice(1), PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: url.username };
const psql = (...cmds: string[]) => {
  const r = spawnSync('psql', ['-X', '-q', ...cmds.flatMap((c) => ['-c', c])], { env: pgEnv, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};
const ddl = (t: string) => `create table ${t} (car_number varchar, speed_p_avg varchar, speed_p_symptom varchar, break_p_avg varchar, break_p_symptom varchar, steer_a_cnt varchar, steer_p_symptom varchar, biz_date varchar)`;

async function main(): Promise<void> {
  log(`# bench:export  ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}  (shared machine)`);
  const dir = path.join(lakePaths(path.join(root, 'lake')).warehouse, 'managed_smartcar_symptom_info', `biz_date=${DAY}`);
  fs.mkdirSync(dir, { recursive: true });
  const csv = path.join(root, 'rows.csv');
  const cols = `chr(65 + (range % 26)::int) || lpad((range % 10000)::varchar, 4, '0') AS car_number, range * 0.001 AS speed_p_avg,
    CASE WHEN range % 17 = 0 THEN 'abnormal' ELSE 'normal' END AS speed_p_symptom, range * 0.002 AS break_p_avg,
    CASE WHEN range % 13 = 0 THEN 'abnormal' ELSE 'normal' END AS break_p_symptom, range % 3000 AS steer_a_cnt, 'normal' AS steer_p_symptom`;
  const cat = await openCatalog({ dataDir: root });
  await cat.exec(`COPY (SELECT ${cols} FROM range(${ROWS})) TO '${path.join(dir, 'data.parquet')}' (FORMAT parquet)`);
  // The CSV psql copies is the mart's own rows, written by DuckDB (so both sides carry the same text).
  await cat.exec(`COPY (SELECT * FROM managed_smartcar_symptom_info WHERE biz_date = '${DAY}') TO '${csv}' (HEADER false)`);
  await cat.close();
  psql(ddl(ours), ddl(theirs));
  const mine: number[] = [];
  const base: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      const r = spawnSync(process.execPath, ['bin/smartcar.js', 'export', 'symptom', '--day', DAY, '--to', PG, '--target', ours, '--data', root], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      mine.push((performance.now() - t0) / 1000);
      psql(`truncate ${theirs}`);
      t0 = performance.now();
      psql(`\\copy ${theirs} from '${csv}' csv`);
      base.push((performance.now() - t0) / 1000);
    }
    const n1 = Number(psql(`select count(*) from ${ours}`).match(/\d+/)![0]);
    const n2 = Number(psql(`select count(*) from ${theirs}`).match(/\d+/)![0]);
    if (n1 !== ROWS || n2 !== ROWS) throw new Error(`row counts ${n1} / ${n2}, expected ${ROWS}`);
    const a = Math.min(...mine), b = Math.min(...base);
    log(`export ${ROWS.toLocaleString('en')} rows x 8 cols: smartcar export best ${a.toFixed(2)} s (${Math.round(ROWS / a).toLocaleString('en')} rows/s; runs ${mine.map((x) => x.toFixed(2)).join(' ')}; each run replaces the day, process start included), psql \\copy best ${b.toFixed(2)} s (${Math.round(ROWS / b).toLocaleString('en')} rows/s; runs ${base.map((x) => x.toFixed(2)).join(' ')}) → ratio ${(b / a).toFixed(2)}x (target >= 0.8)`);
  } finally {
    psql(`drop table if exists ${ours}`, `drop table if exists ${theirs}`);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
