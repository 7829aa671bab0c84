/**
 * `smartcar export` against the machine's real PostgreSQL (unique table names): idempotent per day,
 * a kill half-way keeps the old rows, the content equals the mart (read by DuckDB in-process), and
 * bad targets are refused before anything is written.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, lakePaths } from '../../src/sql/index.ts';
import { exportTable } from '../../src/export/index.ts';
import { parseWorkflow, readHistory, runWorkflow } from '../../src/flow/index.ts';
import { DAY, martDataDir, run } from '../pgwire/support.ts';

const PG = 'postgres://postgres@127.0.0.1:5432/test';
const BIG_DAY = '20240106';
const suffix = crypto.randomBytes(4).toString('hex');
const tables: string[] = [];
const name = (n: string) => {
  const t = `smartcar_t_${n}_${suffix}`;
  tables.push(t);
  return t;
};
let root: string;
let db: pg.Client;

const cli = (args: string[]) => run(process.execPath, ['bin/smartcar.js', 'export', ...args, '--data', root], { timeoutMs: 120_000 });
const count = async (t: string, where = 'true') => Number((await db.query(`select count(*) from ${t} where ${where}`)).rows[0].count);

beforeAll(async () => {
  ({ root } = await martDataDir('export'));
  // A second, big day of the symptom mart (400,000 rows), written as the mart builder lays it out.
  const dir = path.join(lakePaths(path.join(root, 'lake')).warehouse, 'managed_smartcar_symptom_info', `biz_date=${BIG_DAY}`);
  fs.mkdirSync(dir, { recursive: true });
  const cat = await openCatalog({ dataDir: root });
  await cat.exec(`COPY (SELECT printf('Z%07d', range) AS car_number, range * 0.001 AS speed_p_avg, 'normal' AS speed_p_symptom, range * 0.002 AS break_p_avg,
    'abnormal' AS break_p_symptom, range % 3000 AS steer_a_cnt, 'normal' AS steer_p_symptom FROM range(400000)) TO '${path.join(dir, 'data.parquet')}' (FORMAT parquet)`);
  await cat.close();
  db = new pg.Client({ connectionString: PG });
  await db.connect();
}, 180_000);

afterAll(async () => {
  for (const t of tables) await db?.query(`drop table if exists ${t}`);
  await db?.end();
});

describe('smartcar export symptom', () => {
  it('creates the seed table, and re-running leaves the same rows; the content equals the mart', async () => {
    const t = name('symptom');
    for (let i = 0; i < 2; i++) {
      const r = await cli(['symptom', '--day', DAY, '--to', PG, '--target', t]);
      expect(r.status, r.stderr).toBe(0);
    }
    const cols = (await db.query(`select column_name, data_type from information_schema.columns where table_name = $1 order by ordinal_position`, [t])).rows;
    expect(cols.map((c) => c.column_name)).toEqual(['car_number', 'speed_p_avg', 'speed_p_symptom', 'break_p_avg', 'break_p_symptom', 'steer_a_cnt', 'steer_p_symptom', 'biz_date']);
    expect(new Set(cols.map((c) => c.data_type))).toEqual(new Set(['character varying']));
    const cat = await openCatalog({ dataDir: root });
    const mart = (await cat.query(`select * from managed_smartcar_symptom_info where biz_date = '${DAY}' order by car_number`)).rows.map((r) => r.map(String).join('|'));
    await cat.close();
    const got = (await db.query(`select * from ${t} order by car_number`)).rows.map((r) => Object.values(r).join('|'));
    expect(got).toEqual(mart);
    expect(mart.length).toBeGreaterThan(10);
  });

  it('replaces only its day, in one transaction: a kill mid-copy leaves the old rows', async () => {
    const t = name('kill');
    expect((await cli(['symptom', '--day', DAY, '--to', PG, '--target', t])).status).toBe(0);
    expect((await cli(['symptom', '--day', BIG_DAY, '--to', PG, '--target', t])).status).toBe(0);
    const small = await count(t, `biz_date = '${DAY}'`);
    expect(await count(t, `biz_date = '${BIG_DAY}'`)).toBe(400_000);
    // Again, and SIGKILL once PostgreSQL reports the COPY under way.
    let killed = false;
    const r = await run(process.execPath, ['bin/smartcar.js', 'export', 'symptom', '--day', BIG_DAY, '--to', PG, '--target', t, '--data', root], {
      timeoutMs: 120_000,
      onStart: (pid) => {
        const poll = setInterval(async () => {
          const p = await db.query(`select tuples_processed from pg_stat_progress_copy p join pg_class c on c.oid = p.relid where c.relname = $1`, [t]);
          if (p.rows.length && Number(p.rows[0].tuples_processed) > 0) {
            clearInterval(poll);
            killed = true;
            process.kill(pid, 'SIGKILL');
          }
        }, 20);
        setTimeout(() => clearInterval(poll), 110_000);
      },
    });
    expect(killed).toBe(true);
    expect(r.status).not.toBe(0);
    // PostgreSQL rolls the transaction back when the connection drops.
    for (let i = 0; i < 50 && (await db.query(`select count(*) from pg_stat_activity where query like 'COPY%' and query like $1`, [`%${t}%`])).rows[0].count !== '0'; i++) await new Promise((res) => setTimeout(res, 100));
    expect(await count(t, `biz_date = '${BIG_DAY}'`)).toBe(400_000);
    expect(await count(t, `biz_date = '${DAY}'`)).toBe(small);
  }, 240_000);
});

describe('smartcar export --table', () => {
  it('upsert by key is idempotent; append adds; replace-partition replaces', async () => {
    const t = name('master');
    for (let i = 0; i < 2; i++) expect((await cli(['--table', 'smartcar_master', '--to', PG, '--target', t, '--mode', 'upsert', '--key', 'car_number'])).status).toBe(0);
    const n = await count(t);
    expect(n).toBeGreaterThan(1000);
    expect(Number((await db.query(`select count(distinct car_number) from ${t}`)).rows[0].count)).toBe(n);
    const a = name('append');
    for (let i = 0; i < 2; i++) expect((await cli(['--table', 'smartcar_master', '--where', "region = '서울'", '--to', PG, '--target', a, '--mode', 'append'])).status).toBe(0);
    const seoul = Number((await db.query(`select count(*) from ${t} where region = '서울'`)).rows[0].count);
    expect(await count(a)).toBe(2 * seoul);
    const res = await exportTable({ dataDir: root, table: 'managed_smartcar_symptom_info', to: PG, target: name('typed'), mode: 'replace-partition', key: ['biz_date'] });
    expect(res.rows).toBe(400_000 + (await count(tables[0]!)));
    const types = (await db.query(`select data_type from information_schema.columns where table_name = $1 order by ordinal_position`, [res.target])).rows.map((r) => r.data_type);
    expect(types).toEqual(['character varying', 'double precision', 'character varying', 'double precision', 'character varying', 'bigint', 'character varying', 'character varying']);
  }, 240_000);

  it('refuses an unreachable server, unknown credentials and mismatched target columns with exit 2, writing nothing', async () => {
    const unreachable = await cli(['symptom', '--day', DAY, '--to', 'postgres://postgres@127.0.0.1:1/test', '--target', name('nope')]);
    expect(unreachable.status).toBe(2);
    expect(unreachable.stderr).toMatch(/^smartcar: cannot reach PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    const creds = await cli(['symptom', '--day', DAY, '--to', `postgres://nobody_${suffix}:x@127.0.0.1:5432/test`, '--target', name('nope2')]);
    expect(creds.status).toBe(2);
    expect(creds.stderr).toContain('refused the credentials');
    const t = name('mismatch');
    await db.query(`create table ${t} (car_number varchar, other int)`);
    await db.query(`insert into ${t} values ('A0001', 1)`);
    const mis = await cli(['symptom', '--day', DAY, '--to', PG, '--target', t]);
    expect(mis.status).toBe(2);
    expect(mis.stderr).toContain(`target table ${t} has columns (car_number, other)`);
    expect(await count(t)).toBe(1);
    expect(mis.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    // DuckDB had started on the rows before the target was checked: its pipe is gone too.
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.export-'))).toEqual([]);
  });
});

describe('values that need escaping', () => {
  it('arrive as they are: TAB, LF, CR, backslash, \\N and \\. as text, empty vs NULL, quotes, Korean (read back with psql)', async () => {
    // A result table of this test's own (item recommendations of a month no one else writes), all the
    // awkward values in its text columns, NULLs in every column.
    const values: [string | null, string | null, number | null, number | null][] = [
      ['tab\there', 'line\nfeed', 1.5, 1],
      ['carriage\rreturn', 'back\\slash', 2, 2],
      ['\\N', '\\.', null, 3],
      ['', null, 0, null],
      [null, '서울 강남구 "차량" 정비', -0.25, 4],
      ['\\', '\\\\t', 1e-7, 5],
      ['comma, and \'quote\'', 'ends with backslash\\', 1e21, 6],
      ['\t\n\r\\', '한국어\t텍스트\n둘째 줄', 3.25, 7],
    ];
    const dir = path.join(lakePaths(path.join(root, 'lake')).warehouse, 'smartcar_item_recommend', 'biz_month=209912');
    fs.mkdirSync(dir, { recursive: true });
    const lit = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);
    const cat = await openCatalog({ dataDir: root });
    await cat.exec(`COPY (SELECT * FROM (VALUES ${values.map((r) => `(${r.map(lit).join(', ')})`).join(', ')}) t(car_number, item, score, rank)) TO '${path.join(dir, 'data.parquet')}' (FORMAT parquet)`);
    await cat.close();
    const t = name('escapes');
    for (let i = 0; i < 2; i++) {
      const r = await cli(['--table', 'smartcar_item_recommend', '--where', "biz_month = '209912'", '--to', PG, '--target', t, '--key', 'biz_month']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^exported 8 rows/);
    }
    // psql prints each field as hex (or NULL), one row a line: nothing in the output can be ambiguous.
    const hex = (c: string) => `coalesce(encode(convert_to(${c}::text, 'UTF8'), 'hex'), 'NULL')`;
    const out = await run('psql', ['-X', '-A', '-t', '-F', '|', PG, '-c', `select ${['car_number', 'item', 'score', 'rank', 'biz_month'].map(hex).join(', ')} from ${t} order by rank nulls first`]);
    expect(out.status, out.stderr).toBe(0);
    const unhex = (h: string) => (h === 'NULL' ? null : Buffer.from(h, 'hex').toString('utf8'));
    const got = out.stdout.trim().split('\n').map((l) => l.split('|').map(unhex));
    const want = [...values].sort((a, b) => (a[3] ?? -1) - (b[3] ?? -1)).map((r) => [r[0], r[1], r[2] === null ? null : r[2], r[3] === null ? null : String(r[3]), '209912']);
    expect(got.map((r) => [r[0], r[1], r[2] === null ? null : Number(r[2]), r[3], r[4]])).toEqual(want);
    const types = (await db.query(`select data_type from information_schema.columns where table_name = $1 order by ordinal_position`, [t])).rows.map((r) => r.data_type);
    expect(types).toEqual(['character varying', 'character varying', 'double precision', 'integer', 'character varying']);
    // DuckDB failing half-way through the rows (a cast that only some values fail): the COPY is
    // abandoned, the old rows stay, and no pipe is left in the data directory.
    const bad = await cli(['--table', 'smartcar_item_recommend', '--where', "biz_month = '209912' AND CAST(rank AS VARCHAR) || CAST(CAST(item AS INTEGER) AS VARCHAR) <> ''", '--to', PG, '--target', t, '--key', 'biz_month']);
    expect(bad.status, bad.stderr).toBe(1);
    expect(bad.stderr).toMatch(/failed and was rolled back \(old rows kept\): .*(Conversion|Could not convert)/);
    expect(await count(t)).toBe(8);
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.export-'))).toEqual([]);
  }, 120_000);
});

describe('smartcar export of wide decimals', () => {
  it('writes DECIMAL(38,4) and DECIMAL(20,0) values digit for digit, on both sides of 18 digits (read back with psql)', async () => {
    // Values up to 18 digits take DuckDB's 64-bit cast, wider ones the 128-bit one: both must give
    // the text DuckDB itself gives the value.
    const values = ['0', '-0.0001', '12345678901234.5678', '99999999999999.9999', '-99999999999999.9999', '100000000000000.0000',
      '-100000000000000.0001', '1234567890123456789012345678901234.5678', 'NULL'];
    const ints = ['0', '999999999999999999', '-999999999999999999', '1000000000000000000', '-99999999999999999999', '5', '42', '-7', 'NULL'];
    const dir = lakePaths(path.join(root, 'lake')).warehouse;
    fs.mkdirSync(path.join(dir, 'smartcar_car_cluster'), { recursive: true });
    const cat = await openCatalog({ dataDir: root });
    const rowsSql = values.map((v, i) => `(${i}, CAST(${v} AS DECIMAL(38,4)), CAST(${ints[i]} AS DECIMAL(20,0)))`).join(', ');
    await cat.exec(`COPY (SELECT * FROM (VALUES ${rowsSql}) t(car_number, amount, big)) TO '${path.join(dir, 'smartcar_car_cluster', 'data.parquet')}' (FORMAT parquet)`);
    const want = (await cat.query(`SELECT CAST(amount AS VARCHAR) AS a, CAST(big AS VARCHAR) AS b FROM smartcar_car_cluster ORDER BY car_number`)).rows
      .map((r) => r.map((v) => (v === null || v === undefined ? null : String(v))));
    await cat.close();
    expect(want[7]).toEqual(['1234567890123456789012345678901234.5678', '-7']);
    const t = name('decimals');
    const r = await cli(['--table', 'smartcar_car_cluster', '--to', PG, '--target', t, '--mode', 'append']);
    expect(r.status, r.stderr).toBe(0);
    const got = (await db.query(`select amount::text as a, big::text as b from ${t} order by car_number`)).rows.map((x) => [x.a, x.b]);
    expect(got).toEqual(want);
  }, 120_000);
});

describe('the symptom workflow', () => {
  it('ends with the export step when SMARTCAR_EXPORT_URL is set, retried, in the run history', async () => {
    const t = name('workflow');
    const shipped = JSON.parse(fs.readFileSync('workflows/symptom.json', 'utf8'));
    expect(shipped.steps.at(-1)).toMatchObject({ type: 'export', mart: 'symptom', dependsOn: ['mart'] });
    // The shipped definition with a target of this test's own, and short backoffs.
    shipped.steps.at(-1).target = t;
    shipped.steps.at(-1).backoffMs = 50;
    const wf = parseWorkflow(JSON.stringify(shipped), 'symptom.json');
    const saved = process.env.SMARTCAR_EXPORT_URL;
    try {
      delete process.env.SMARTCAR_EXPORT_URL;
      const skipped = await runWorkflow(wf, DAY, { dataDir: root });
      expect(skipped.state).toBe('succeeded');
      expect(skipped.steps.at(-1)!.log.join('\n')).toContain('no PostgreSQL URL configured');
      process.env.SMARTCAR_EXPORT_URL = PG;
      const ok = await runWorkflow(wf, DAY, { dataDir: root });
      expect(ok.state, ok.error).toBe('succeeded');
      expect(await count(t, `biz_date = '${DAY}'`)).toBe(ok.steps.find((s) => s.id === 'mart')!.rows);
      process.env.SMARTCAR_EXPORT_URL = 'postgres://postgres@127.0.0.1:1/test';
      const bad = await runWorkflow(wf, DAY, { dataDir: root });
      expect(bad.state).toBe('failed');
      const step = readHistory(root, 'symptom').at(-1)!.steps.find((s) => s.id === 'export')!;
      expect(step.state).toBe('failed');
      expect(step.attempts).toBe(4);
    } finally {
      if (saved === undefined) delete process.env.SMARTCAR_EXPORT_URL;
      else process.env.SMARTCAR_EXPORT_URL = saved;
    }
  }, 180_000);
});
