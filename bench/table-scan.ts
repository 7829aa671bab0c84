/**
 * `npm run bench:table-scan` — what filtered scans cost on the PostgreSQL table store with `cells` as
 * `json` (the layout since issue 19) against `jsonb` (tables of earlier versions), in the same run.
 *
 * BENCH_ROWS driving rows (default 500,000) are put through the store into one table; the same table is
 * then copied with `cells` as jsonb, and each scan runs BENCH_RUNS times (default 3) on both. A scan is
 * timed through the store's API (SQL with the filters pushed into WHERE, then the JavaScript check),
 * and the SQL alone (`count(*)` with the same WHERE) is timed as well. Baseline: the same scan without
 * filters. BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432/test).
 */
import pg from 'pg';
import { openTableStore, parseFilter, DrivingRows, ensureDriverTable, type TableStore } from '../src/table/index.ts';
import { filterSql } from '../src/table/pgfilter.ts';
import { DRIVER_TABLE, parseDrivingRecordBytes } from '../src/core/records.ts';
import { driverLines } from '../src/sim/index.ts';
import { parseDate8 } from '../src/core/time.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 500_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PG_URL = process.env.BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const SCANS: [string, string[]][] = [
  ['no filter (baseline)', []],
  ['cf1:speed>100', ['cf1:speed>100']],
  ['cf1:speed>100, cf1:area_number~^A', ['cf1:speed>100', 'cf1:area_number~^A']],
  ['cf1:car_number=A0001', ['cf1:car_number=A0001']],
];

async function load(store: TableStore): Promise<void> {
  await ensureDriverTable(store);
  let batch = new DrivingRows();
  let n = 0;
  const cars = 1000;
  for (const line of driverLines({ cars, seed: 7, startMs: parseDate8('20240101'), records: Math.ceil(ROWS / cars) })) {
    const p = parseDrivingRecordBytes(Buffer.from(line));
    if (!p.ok) continue;
    batch.push(p.record);
    if (++n === ROWS || batch.length === 10_000) {
      await store.putMany(DRIVER_TABLE, batch);
      batch = new DrivingRows();
      process.stdout.write(`\r  loading ${fmt(n)} / ${fmt(ROWS)} rows`);
    }
    if (n === ROWS) break;
  }
  if (batch.length) await store.putMany(DRIVER_TABLE, batch);
  process.stdout.write('\n');
}

async function timeScan(store: TableStore, filters: string[]): Promise<{ ms: number; rows: number }> {
  const t0 = performance.now();
  let rows = 0;
  for await (const _ of store.scan(DRIVER_TABLE, { filters: filters.map(parseFilter) })) rows++;
  return { ms: performance.now() - t0, rows };
}

async function timeSql(client: pg.Client, table: string, filters: string[]): Promise<number> {
  const args: unknown[] = [];
  const where = filters.map((f) => filterSql(parseFilter(f), (v) => (args.push(v), `$${args.length}`)));
  const t0 = performance.now();
  await client.query(`SELECT count(*) FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`, args);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const schemas = { json: `bench_scan_json_${process.pid}`, jsonb: `bench_scan_jsonb_${process.pid}` };
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  process.stdout.write(`bench:table-scan — ${fmt(ROWS)} driving rows, PostgreSQL ${PG_URL.replace(/\/\/[^@]*@/, '//')}, ${RUNS} runs a scan (median)\n`);
  try {
    const json = await openTableStore({ kind: 'postgres', url: PG_URL, schema: schemas.json });
    await load(json);
    await json.close();
    // The jsonb twin: the same rows, `cells` converted as an earlier version's table holds it.
    await client.query(`CREATE SCHEMA ${schemas.jsonb}`);
    await client.query(`CREATE TABLE ${schemas.jsonb}.smartcar_tables AS TABLE ${schemas.json}.smartcar_tables`);
    await client.query(`CREATE TABLE ${schemas.jsonb}."t_${DRIVER_TABLE}" (row text COLLATE "C" PRIMARY KEY, ts float8, cells jsonb NOT NULL, hist jsonb)`);
    await client.query(`INSERT INTO ${schemas.jsonb}."t_${DRIVER_TABLE}" SELECT row, ts, cells::jsonb, hist FROM ${schemas.json}."t_${DRIVER_TABLE}"`);
    await client.query(`VACUUM ANALYZE ${schemas.json}."t_${DRIVER_TABLE}"`);
    await client.query(`VACUUM ANALYZE ${schemas.jsonb}."t_${DRIVER_TABLE}"`);
    const stores = { json: await openTableStore({ kind: 'postgres', url: PG_URL, schema: schemas.json }), jsonb: await openTableStore({ kind: 'postgres', url: PG_URL, schema: schemas.jsonb }) };
    process.stdout.write(`  ${'scan'.padEnd(40)} ${'rows'.padStart(8)}  ${'json: store'.padStart(12)} ${'SQL'.padStart(8)}  ${'jsonb: store'.padStart(12)} ${'SQL'.padStart(8)}  json/jsonb (store, SQL)\n`);
    for (const [label, filters] of SCANS) {
      const out: Record<string, { store: number; sql: number; rows: number }> = {};
      for (const kind of ['json', 'jsonb'] as const) {
        const st: number[] = [], sq: number[] = [];
        let rows = 0;
        for (let i = 0; i < RUNS; i++) {
          const r = await timeScan(stores[kind], filters);
          st.push(r.ms);
          rows = r.rows;
          sq.push(await timeSql(client, `${schemas[kind]}."t_${DRIVER_TABLE}"`, filters));
        }
        out[kind] = { store: median(st), sql: median(sq), rows };
      }
      if (out.json.rows !== out.jsonb.rows) throw new Error(`${label}: json returned ${out.json.rows} rows, jsonb ${out.jsonb.rows}`);
      process.stdout.write(`  ${label.padEnd(40)} ${fmt(out.json.rows).padStart(8)}  ${`${fmt(out.json.store)} ms`.padStart(12)} ${`${fmt(out.json.sql)} ms`.padStart(8)}  ${`${fmt(out.jsonb.store)} ms`.padStart(12)} ${`${fmt(out.jsonb.sql)} ms`.padStart(8)}  ${(out.json.store / out.jsonb.store).toFixed(2)}×, ${(out.json.sql / out.jsonb.sql).toFixed(2)}×\n`);
    }
    await stores.json.close();
    await stores.jsonb.close();
  } finally {
    for (const s of Object.values(schemas)) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:table-scan: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
