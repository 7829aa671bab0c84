/** Shared by the benchmarks: the `smartcar` binary, the embedded broker as its own process, the symptom mart for the SQL-server benches. */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SMARTCAR_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/smartcar.js');

/** `smartcar broker` on a free port with its log in `dataDir`; resolves once it listens. */
export async function brokerProcess(dataDir: string, partitions = 4): Promise<{ addr: string; pid: number; stop(): Promise<void> }> {
  const p = spawn(process.execPath, [SMARTCAR_BIN, 'broker', '--port', '0', '--data', dataDir, '--partitions', String(partitions)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' } });
  const addr = await new Promise<string>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening\s+(\S+:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    p.once('exit', (code) => reject(new Error(`broker exited ${code}`)));
  });
  return { addr, pid: p.pid!, stop: () => new Promise((r) => { p.once('exit', () => r()); p.kill('SIGTERM'); }) };
}

/** The seed's symptom mart: the table both SQL-server benches read. */
/** The port a server child prints in its `listening HOST:PORT` line on stdout; rejects if it exits first. */
export function listeningPort(child: import('node:child_process').ChildProcess, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening \S+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`${what} exited ${c}`)));
  });
}

export const SYMPTOM_MART = 'managed_smartcar_symptom_info';

/** `rows` rows × 8 varchar columns shaped like the seed's symptom table (a DuckDB query over `range`). */
export function symptomRowsSql(rows: number, withBizDate = true): string {
  return `SELECT chr(65 + (range % 26)::int) || lpad((range % 10000)::varchar, 4, '0') AS car_number, (range * 0.001)::varchar AS speed_p_avg,
  CASE WHEN range % 17 = 0 THEN 'abnormal' ELSE 'normal' END AS speed_p_symptom, (range * 0.002)::varchar AS break_p_avg,
  CASE WHEN range % 13 = 0 THEN 'abnormal' ELSE 'normal' END AS break_p_symptom, (range % 3000)::varchar AS steer_a_cnt,
  'normal' AS steer_p_symptom${withBizDate ? `, '20240101' AS biz_date` : ''} FROM range(${rows})`;
}

/**
 * Writes `rows` symptom rows as the mart's 20240101 partition (one Parquet file) under `dataDir`'s lake,
 * and, with `csv`, the same rows (biz_date included) as a headerless CSV for PostgreSQL's `\copy`.
 * DuckDB is loaded here, not at import, so the other benches do not pay for it.
 */
export async function writeSymptomMart(dataDir: string, rows: number, csv?: string): Promise<void> {
  const { openCatalog, lakePaths } = await import('../src/sql/index.ts');
  const dir = path.join(lakePaths(path.join(dataDir, 'lake')).warehouse, SYMPTOM_MART, 'biz_date=20240101');
  fs.mkdirSync(dir, { recursive: true });
  const cat = await openCatalog({ dataDir });
  try {
    await cat.exec(`COPY (${symptomRowsSql(rows, false)}) TO '${path.join(dir, 'data.parquet')}' (FORMAT parquet)`);
    if (csv) await cat.exec(`COPY (${symptomRowsSql(rows)}) TO '${csv}' (HEADER false)`);
  } finally {
    await cat.close();
  }
}

/** Wall seconds of `psql -X -q [extra] -c SQL > /dev/null` (psql reads the whole result, then prints it). */
export function psqlTime(env: NodeJS.ProcessEnv, sql: string, extra: string[] = []): number {
  return psqlRun(env, sql, extra).seconds;
}

/** `psqlTime`, and the CPU seconds psql itself used (user + system, from bash's `time`). */
export function psqlRun(env: NodeJS.ProcessEnv, sql: string, extra: string[] = []): { seconds: number; clientCpu: number } {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3U %3S'; time (psql -X -q ${extra.join(' ')} -c "${sql}" > /dev/null)`], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  const m = /([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { seconds, clientCpu: m ? Number(m[1]) + Number(m[2]) : NaN };
}
