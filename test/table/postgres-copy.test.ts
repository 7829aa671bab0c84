/**
 * The PostgreSQL table store's write path (binary COPY into a staging table, one ON CONFLICT merge in
 * SQL) and its read path (conditions pushed into SQL), checked against a small oracle written here from
 * the table contract (types.ts / cells.ts comments), and read back independently through psql.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openTableStore, parseFilter, type ColumnFilter, type TableStore } from '../../src/table/index.ts';
import { filterSql } from '../../src/table/pgfilter.ts';

const PG = process.env.TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `test_pgcopy_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

/** The oracle: per row, per column, versions newest first; the same value as the newest is no new version. */
class Oracle {
  rows = new Map<string, Map<string, [number, string][]>>();
  constructor(private readonly keep: number) {}
  put(row: string, cells: Record<string, string>, ts: number) {
    let r = this.rows.get(row);
    if (!r) this.rows.set(row, (r = new Map()));
    for (const [col, value] of Object.entries(cells)) {
      const vs = r.get(col) ?? [];
      if (vs.length && vs[0][1] === value) continue;
      r.set(col, [[ts, value] as [number, string], ...vs].slice(0, this.keep));
    }
  }
  newest(row: string): Record<string, string> | null {
    const r = this.rows.get(row);
    if (!r) return null;
    return Object.fromEntries([...r].map(([c, vs]) => [c, vs[0][1]]));
  }
}

/** Rows as psql prints them: `row<TAB>cells-json`, parsed without going through node-postgres. */
function psqlRows(table: string): Map<string, Record<string, [number, string][]>> {
  const out = execFileSync('psql', [PG, '-XAtq', '-F', '\t', '-c', `SELECT row, "${SCHEMA}".smartcar_full(ts, cells, hist) FROM "${SCHEMA}"."t_${table}" ORDER BY row`], { encoding: 'utf8' });
  const m = new Map<string, Record<string, [number, string][]>>();
  for (const line of out.split('\n').filter(Boolean)) {
    const tab = line.indexOf('\t');
    m.set(line.slice(0, tab), JSON.parse(line.slice(tab + 1)));
  }
  return m;
}

const collect = async (it: AsyncIterable<{ row: string; cells: Record<string, string> }>) => {
  const out: { row: string; cells: Record<string, string> }[] = [];
  for await (const r of it) out.push(r);
  return out;
};

/** A deterministic generator (mulberry32). */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 25 random batches (repeated keys, replays, partial puts) into `table` (keeping 3 versions), then the stored state against the oracle, version for version. */
async function randomBatches(table: string, seed: number): Promise<void> {
  const oracle = new Oracle(3);
  const rand = rng(seed);
  const values = ['1', '2', 'x', 'tab\there', 'quote"and\\back', 'line\nbreak', 'ünï', '東京', '', '{"j":1}'];
  let ts = 1_000;
  const batches: { row: string; cells: Record<string, string> }[][] = [];
  for (let b = 0; b < 25; b++) {
    const batch: { row: string; cells: Record<string, string> }[] = [];
    // 1–150 rows: small batches take the merge path, large ones try the direct COPY first.
    const n = 1 + Math.floor(rand() * 150);
    for (let i = 0; i < n; i++) {
      const row = `k${Math.floor(rand() * 40)}${rand() < 0.05 ? "'é\"" : ''}`;
      const cells: Record<string, string> = {};
      for (const col of ['a:x', 'a:y', 'b:z']) if (rand() < 0.6) cells[col] = values[Math.floor(rand() * values.length)];
      if (!Object.keys(cells).length) cells['a:x'] = '1';
      batch.push({ row, cells });
    }
    // Every fifth batch is a replay of an earlier one (the stream after a crash).
    batches.push(b % 5 === 4 ? batches[b - 3] : batch);
  }
  for (const batch of batches) {
    ts += 10;
    await store.putMany(table, batch, ts);
    for (const r of batch) oracle.put(r.row, r.cells, ts);
  }
  const stored = psqlRows(table);
  expect([...stored.keys()].sort()).toEqual([...oracle.rows.keys()].sort());
  for (const [row, cols] of oracle.rows) {
    expect(stored.get(row), row).toEqual(Object.fromEntries(cols));
    expect(await store.get(table, row)).toEqual({ row, cells: oracle.newest(row) });
  }
}

const psql = (sql: string) => execFileSync('psql', [PG, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();

/** The SQL type of a store table's `cells` column. */
const cellsType = (table: string) => psql(`SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '"${SCHEMA}"."t_${table}"'::regclass AND attname = 'cells'`);

/** A store table as versions before json cells created it: `cells jsonb`, registered in the catalog. */
async function jsonbTable(name: string, families: string[], maxVersions: number): Promise<void> {
  await store.listTables(); // the schema and catalog exist
  psql(`CREATE TABLE "${SCHEMA}"."t_${name}" (row text COLLATE "C" PRIMARY KEY, ts float8, cells jsonb NOT NULL, hist jsonb); ` +
    `INSERT INTO "${SCHEMA}".smartcar_tables VALUES ('${name}', '{${families.join(',')}}', ${maxVersions})`);
}

let store: TableStore;
let other: TableStore;
beforeAll(async () => {
  store = await openTableStore({ kind: 'postgres', url: PG, schema: SCHEMA });
  other = await openTableStore({ kind: 'postgres', url: PG, schema: SCHEMA });
});
afterAll(async () => {
  await (store as unknown as { dropSchema(): Promise<void> }).dropSchema();
  await store.close();
  await other.close();
});

describe('PostgreSQL table store: COPY + SQL merge', () => {
  it.each([7, 11, 23])('random batches with repeated keys, replays and partial puts end in the oracle\'s state, version for version (seed %i)', async (seed) => {
    const table = `r${seed}`;
    await store.createTable({ name: table, families: ['a', 'b'], maxVersions: 3 });
    expect(cellsType(table)).toBe('json');
    await randomBatches(table, seed);
  });

  it.each([7, 11])('a table whose cells are jsonb (created by earlier versions) takes the same batches to the same state, and stays jsonb (seed %i)', async (seed) => {
    const table = `j${seed}`;
    await jsonbTable(table, ['a', 'b'], 3);
    await randomBatches(table, seed);
    expect(cellsType(table)).toBe('jsonb');
  });

  it('a jsonb table: direct COPY, a replay that rewrites nothing, merged columns, versions, filters and deletes', async () => {
    await jsonbTable('jold', ['cf1', 'cf2'], 2);
    const fresh = await openTableStore({ kind: 'postgres', url: PG, schema: SCHEMA });
    try {
      const batch = Array.from({ length: 500 }, (_, i) => ({ row: `r${String(i).padStart(4, '0')}`, cells: { 'cf1:speed': String(i % 250), 'cf1:area': i % 2 ? 'A01' : 'B02' } }));
      await fresh.putMany('jold', batch, 1);
      const xmin = () => psql(`SELECT string_agg(xmin::text, ',' ORDER BY row) FROM "${SCHEMA}"."t_jold"`);
      const before = xmin();
      await fresh.putMany('jold', batch, 2);
      expect(xmin()).toBe(before);
      await fresh.put('jold', 'r0007', { 'cf2:note': 'late', 'cf1:speed': '99' }, 3);
      expect(await fresh.get('jold', 'r0007')).toEqual({ row: 'r0007', cells: { 'cf1:speed': '99', 'cf1:area': 'A01', 'cf2:note': 'late' } });
      const versions = fresh as unknown as { getVersions(t: string, r: string, c: string): Promise<{ timestamp: number; value: string }[]> };
      expect(await versions.getVersions('jold', 'r0007', 'cf1:speed')).toEqual([{ timestamp: 3, value: '99' }, { timestamp: 1, value: '7' }]);
      const rows = await collect(fresh.scan('jold', { filters: [parseFilter('cf1:speed>240'), parseFilter('cf1:area~^B')] }));
      expect(rows.map((r) => r.row)).toEqual(batch.filter((r) => Number(r.cells['cf1:speed']) > 240 && r.cells['cf1:area'] === 'B02').map((r) => r.row));
      await fresh.delete('jold', 'r0007', ['cf2:note']);
      expect(await fresh.get('jold', 'r0007')).toEqual({ row: 'r0007', cells: { 'cf1:speed': '99', 'cf1:area': 'A01' } });
      await fresh.delete('jold', 'r0007', ['cf1:speed', 'cf1:area']);
      expect(await fresh.get('jold', 'r0007')).toBeNull();
      expect(await fresh.count('jold')).toBe(499);
    } finally {
      await fresh.close();
    }
  });

  it('a replayed batch rewrites no row (xmin unchanged), and a put of other columns merges', async () => {
    await store.createTable({ name: 'replay', families: ['cf1', 'cf2'], maxVersions: 1 });
    const batch = Array.from({ length: 2000 }, (_, i) => ({ row: `r${String(i).padStart(5, '0')}`, cells: { 'cf1:speed': String(i % 250), 'cf1:area': 'A01' } }));
    await store.putMany('replay', batch, 1);
    const xmin = () => execFileSync('psql', [PG, '-XAtq', '-c', `SELECT string_agg(xmin::text, ',' ORDER BY row) FROM "${SCHEMA}"."t_replay"`], { encoding: 'utf8' }).trim();
    const before = xmin();
    await store.putMany('replay', batch, 2);
    expect(xmin()).toBe(before);
    await other.putMany('replay', [{ row: 'r00007', cells: { 'cf2:note': 'late' } }], 3);
    expect(await store.get('replay', 'r00007')).toEqual({ row: 'r00007', cells: { 'cf1:speed': '7', 'cf1:area': 'A01', 'cf2:note': 'late' } });
    expect(await store.count('replay')).toBe(2000);
  });

  it('after a replay, the first merged batch with no replayed row ends the run of merge batches', async () => {
    await store.createTable({ name: 'runs', families: ['cf1'] });
    const runs = () => (store as unknown as { mergeRuns: Map<string, number> }).mergeRuns.get('runs') ?? 0;
    const batch = (k: number) => Array.from({ length: 100 }, (_, i) => ({ row: `r${k}-${i}`, cells: { 'cf1:a': String(i) } }));
    await store.putMany('runs', batch(0));
    await store.putMany('runs', batch(0)); // a replay: the direct COPY fails, a run of merge batches starts
    expect(runs()).toBeGreaterThan(1);
    await store.putMany('runs', [...batch(0).slice(0, 50), ...batch(1).slice(0, 50)]); // still partly a replay
    expect(runs()).toBeGreaterThan(0);
    await store.putMany('runs', batch(2)); // past the replay
    expect(runs()).toBe(0);
    expect(await store.count('runs')).toBe(250);
  });

  it('two writers merging different columns of the same rows at once lose nothing', async () => {
    await store.createTable({ name: 'conc', families: ['cf1'], maxVersions: 2 });
    const keys = Array.from({ length: 3000 }, (_, i) => `c${i}`);
    const write = (s: TableStore, col: string) =>
      Promise.all(Array.from({ length: 6 }, (_, j) => s.putMany('conc', keys.filter((_, i) => i % 6 === j).map((row) => ({ row, cells: { [col]: row + col } })))));
    await Promise.all([write(store, 'cf1:left'), write(other, 'cf1:right')]);
    const rows = await collect(store.scan('conc'));
    expect(rows.length).toBe(3000);
    for (const r of rows) expect(r.cells).toEqual({ 'cf1:left': r.row + 'cf1:left', 'cf1:right': r.row + 'cf1:right' });
  });

  it('converts a table of the first layout (row, cells = full stored row) in place, versions kept', async () => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    try {
      await c.query(`INSERT INTO "${SCHEMA}".smartcar_tables VALUES ('old', '{cf1}', 3)`);
      await c.query(`CREATE TABLE "${SCHEMA}"."t_old" (row text COLLATE "C" PRIMARY KEY, cells jsonb NOT NULL)`);
      await c.query(`INSERT INTO "${SCHEMA}"."t_old" VALUES ('a', '{"cf1:x": [[5, "2"], [4, "1"]], "cf1:y": [[4, "z"]]}'), ('b', '{"cf1:x": [[4, "q"]]}')`);
    } finally {
      await c.end();
    }
    const fresh = await openTableStore({ kind: 'postgres', url: PG, schema: SCHEMA });
    try {
      const versions = fresh as unknown as { getVersions(t: string, r: string, c: string): Promise<{ timestamp: number; value: string }[]> };
      expect(await fresh.get('old', 'a')).toEqual({ row: 'a', cells: { 'cf1:x': '2', 'cf1:y': 'z' } });
      expect(await versions.getVersions('old', 'a', 'cf1:x')).toEqual([{ timestamp: 5, value: '2' }, { timestamp: 4, value: '1' }]);
      await fresh.put('old', 'b', { 'cf1:x': 'r' }, 6);
      expect(await versions.getVersions('old', 'b', 'cf1:x')).toEqual([{ timestamp: 6, value: 'r' }, { timestamp: 4, value: 'q' }]);
      expect((await collect(fresh.scan('old', { filters: [parseFilter('cf1:x=r')] }))).map((r) => r.row)).toEqual(['b']);
    } finally {
      await fresh.close();
    }
  });

  it('deletes columns and rows in SQL', async () => {
    await store.put('conc', 'c1', { 'cf1:left': 'x' });
    await store.delete('conc', 'c1', ['cf1:left']);
    expect(await store.get('conc', 'c1')).toEqual({ row: 'c1', cells: { 'cf1:right': 'c1cf1:right' } });
    await store.delete('conc', 'c1', ['cf1:right']);
    expect(await store.get('conc', 'c1')).toBeNull();
  });
});

describe('PostgreSQL table store: scans push conditions into SQL', () => {
  const cellsOf = ['0', '5', '12', '100', '-3', '2.5', '1e2', ' 7', '0x10', 'abc', 'Abd', 'é', '', '250', '99999999999999999999'];
  /** The contract's filter semantics, written here: numeric when both sides are finite numbers. */
  const oracleMatch = (cell: string | undefined, f: ColumnFilter): boolean => {
    if (cell === undefined) return false;
    if (f.op === '~') return new RegExp(f.value).test(cell);
    const num = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));
    const numeric = num(cell) && num(f.value);
    const a = numeric ? Number(cell) : cell, b = numeric ? Number(f.value) : f.value;
    return { '=': a === b, '!=': a !== b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b }[f.op];
  };

  beforeAll(async () => {
    await store.createTable({ name: 'f', families: ['cf1'] });
    await store.putMany('f', cellsOf.map((v, i) => ({ row: `f${String(i).padStart(2, '0')}`, cells: { [i === 3 ? 'cf1:other' : 'cf1:v']: v } })));
  });

  const filters = ['cf1:v>5', 'cf1:v<=12', 'cf1:v=100', 'cf1:v!=5', 'cf1:v>=abc', 'cf1:v<Abd', 'cf1:v=é', 'cf1:v>é', 'cf1:v~^A', 'cf1:v~b.$', 'cf1:v>1e1', 'cf1:v<99999999999999999999'];
  it.each(filters)('%s: the same rows as the oracle, and the pushed SQL alone keeps every one of them', async (text) => {
    const f = parseFilter(text);
    const expected = cellsOf.map((v, i) => [`f${String(i).padStart(2, '0')}`, i === 3 ? undefined : v] as const).filter(([, v]) => oracleMatch(v, f)).map(([k]) => k);
    expect((await collect(store.scan('f', { filters: [f] }))).map((r) => r.row)).toEqual(expected);
    // The pushed condition by itself, run through a separate connection: a superset of the answer.
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    try {
      const args: unknown[] = [];
      const sql = filterSql(f, (v) => { args.push(v); return '$' + args.length; });
      const got = (await c.query(`SELECT row FROM "${SCHEMA}"."t_f" WHERE ${sql} ORDER BY row`, args)).rows.map((r) => r.row as string);
      for (const k of expected) expect(got).toContain(k);
      // For string equality and literal prefixes the SQL is the whole answer; for a number it is
      // exact over plain decimals and leaves the other cells (' 7', '0x10', 'abc' …) to JavaScript.
      if (['cf1:v=é', 'cf1:v~^A'].includes(text)) expect(got).toEqual(expected);
      if (text === 'cf1:v=100') expect(got).toEqual(['f06', 'f07', 'f08', 'f09', 'f10', 'f11', 'f12', 'f14']);
      expect(got).not.toContain('f03'); // lacks the column
    } finally {
      await c.end();
    }
  });
});
