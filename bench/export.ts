/**
 * `npm run bench:export` — `smartcar export` of a 1,000,000-row mart day (8 columns, the seed's
 * symptom table) into the machine's PostgreSQL, against `psql \copy` of the same rows as CSV into
 * the same DDL, in the same run. Best of BENCH_RUNS; ratio of rows/s (target ≥ 0.8). Each run:
 *   1. both tables truncated;
 *   2. `smartcar export symptom` into the empty table (a whole process: node start and module loading
 *      included; the command's own in-process time is reported next to it);
 *   3. the same again, which replaces the day (its DELETE of the 1,000,000 previous rows included);
 *   4. `psql \copy` of the CSV into the empty table (psql start, file read, COPY);
 *   5. psql doing what step 3 does: BEGIN; DELETE the day; \copy; COMMIT.
 * Ratios: 4 / 2 (the target's comparison) and 5 / 3 (like for like on a re-export).
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
  const count = (t: string) => Number(psql(`select count(*) from ${t}`).match(/\d+/)![0]);
  const runs: { fresh: number; freshIn: number; replace: number; replaceIn: number; copy: number; copyReplace: number }[] = [];
  const ourExport = () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['bin/smartcar.js', 'export', 'symptom', '--day', DAY, '--to', PG, '--target', ours, '--data', root], { encoding: 'utf8' });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(r.stderr);
    // The command's own figure: from the start of exportTable to COMMIT (no process start, no module loading).
    const inside = Number(/ in ([\d.]+) s/.exec(r.stderr)![1]);
    return { wall, inside };
  };
  const theirCopy = (...before: string[]) => {
    const t0 = performance.now();
    psql(...before, `\\copy ${theirs} from '${csv}' csv`, ...(before.length ? ['COMMIT'] : []));
    return (performance.now() - t0) / 1000;
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      psql(`truncate ${ours}`, `truncate ${theirs}`);
      const fresh = ourExport();
      if (count(ours) !== ROWS) throw new Error(`smartcar export left ${count(ours)} rows, expected ${ROWS}`);
      const replace = ourExport();
      const copy = theirCopy();
      // The baseline doing what a re-export does: the day's rows deleted and copied again, in one transaction.
      const copyReplace = theirCopy('BEGIN', `DELETE FROM ${theirs} WHERE biz_date = '${DAY}'`);
      runs.push({ fresh: fresh.wall, freshIn: fresh.inside, replace: replace.wall, replaceIn: replace.inside, copy, copyReplace });
      log(`run ${i + 1}: smartcar export into the empty table ${fresh.wall.toFixed(2)} s (in-process ${fresh.inside.toFixed(2)} s), again replacing the day ${replace.wall.toFixed(2)} s (${replace.inside.toFixed(2)} s); psql \\copy ${copy.toFixed(2)} s, psql BEGIN; DELETE; \\copy; COMMIT ${copyReplace.toFixed(2)} s; ratios ${(copy / fresh.wall).toFixed(2)}x / ${(copyReplace / replace.wall).toFixed(2)}x  (load ${os.loadavg()[0]!.toFixed(1)})`);
    }
    const n1 = count(ours), n2 = count(theirs);
    if (n1 !== ROWS || n2 !== ROWS) throw new Error(`row counts ${n1} / ${n2}, expected ${ROWS}`);
    const best = (k: keyof (typeof runs)[number]) => Math.min(...runs.map((r) => r[k]));
    const rate = (s: number) => `${Math.round(ROWS / s).toLocaleString('en')} rows/s`;
    log(`\nexport ${ROWS.toLocaleString('en')} rows x 8 varchar cols, best of ${RUNS} (load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}):`);
    log(`  into an empty table:  smartcar export ${best('fresh').toFixed(2)} s (${rate(best('fresh'))}; whole process: node start, module loading, DuckDB reading the Parquet, COPY, COMMIT; in-process ${best('freshIn').toFixed(2)} s)`);
    log(`                        psql \\copy of the same rows as CSV ${best('copy').toFixed(2)} s (${rate(best('copy'))}; psql start, reading the CSV file, COPY)`);
    // Each run's four steps follow one another, so a run's own ratio shares its moment's load.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    log(`                        → ratio of the bests ${(best('copy') / best('fresh')).toFixed(2)}x, median of the runs' own ratios ${median(runs.map((r) => r.copy / r.fresh)).toFixed(2)}x (target >= 0.8)`);
    log(`  replacing the day:    smartcar export ${best('replace').toFixed(2)} s (${rate(best('replace'))}; its DELETE of the day's 1,000,000 rows included; in-process ${best('replaceIn').toFixed(2)} s)`);
    log(`                        psql BEGIN; DELETE the day; \\copy; COMMIT ${best('copyReplace').toFixed(2)} s (${rate(best('copyReplace'))})`);
    log(`                        → ratio of the bests ${(best('copyReplace') / best('replace')).toFixed(2)}x, median of the runs' own ratios ${median(runs.map((r) => r.copyReplace / r.replace)).toFixed(2)}x`);
  } finally {
    psql(`drop table if exists ${ours}`, `drop table if exists ${theirs}`);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
