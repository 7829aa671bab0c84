/**
 * The table store on PostgreSQL: one table per store table and a catalog `<schema>.smartcar_tables`.
 *
 *   <schema>."t_<name>" (row text COLLATE "C" PRIMARY KEY, ts float8, cells json, hist jsonb)
 *
 * `cells` holds each column's newest value, `{"cf1:speed": "120", …}`. When `hist` is NULL (every row the
 * stream writes) each column has exactly that one version, stamped `ts`; otherwise `hist` is the full
 * stored row of cells.ts, `{"cf1:speed": [[ts, "120"], [ts, "95"]], …}`, and `cells` is its newest
 * values. Reads need only `cells`; `collate "C"` gives HBase's byte order for ranges and scans.
 *
 * `cells` is json because PostgreSQL only validates json on input, where jsonb converts every row (a third
 * of the backend's CPU per streamed record); SQL needing jsonb casts `cells::jsonb`. Tables created with
 * `cells jsonb` (earlier versions) are detected when first opened and served as they are: the COPY
 * writes jsonb's version byte for them, and each type has its own staging table.
 *
 * putMany is one transaction of a binary COPY (pgcopy.ts):
 * - a batch of new rows (the stream's case) is copied straight into the table; when a row already
 *   exists, or the batch puts one key twice, the COPY fails on the primary key, the transaction is rolled
 *   back, and the batch takes the merge path, as do the next few batches of the table (replays after a
 *   crash come in runs; the run ends early at a merge batch that held no replayed row) and small
 *   batches (a single put);
 * - the merge path copies the batch into the connection's temporary staging table, then one
 *   `INSERT … SELECT … ON CONFLICT (row) DO UPDATE` moves it into the table: a new row as staged, an
 *   existing one merged by `<schema>.smartcar_merge`, the SQL twin of cells.ts's mergeCells (each staged
 *   version, oldest first, becomes the column's newest unless it equals the current newest value, then
 *   the column keeps `keep` versions). A row whose newest values already hold the staged ones
 *   (`cells @> staged`: a replay) is not rewritten. Rows are merged in key order, so writers merging the
 *   same rows at once wait for each other rather than deadlock.
 *
 * Reads push their conditions into SQL: `get` by primary key; `scan` by key range, prefix, direction
 * and column filters (pgfilter.ts), paging 1,000 rows at a time; filters are then checked exactly in
 * JavaScript, as in every adapter.
 *
 * A table of the first layout (`row, cells` with the stored row in `cells`) is converted in place the
 * first time this version opens it.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { UserError } from '../core/index.ts';
import { matchesFilters } from './filter.ts';
import { filterSql } from './pgfilter.ts';
import { CopyWriter } from './pgcopy.ts';
import { checkColumns, mergeCells, type StoredRow } from './cells.ts';
import type { PutRow, Row, RowBatch, ScanOptions, TableDescriptor, TableStore } from './types.ts';

/** Per connection, the staging tables it has created (temporary tables live as long as the session). */
const staged = new WeakMap<pg.PoolClient, Set<string>>();
/** Batches smaller than this always take the merge path (a failed direct COPY costs a round trip). */
const DIRECT_MIN_ROWS = 64;
/** After a direct COPY hit an existing row, this many batches of the table take the merge path. */
const MERGE_RUN = 8;

/** The merge of a staged row into a stored one, and the full stored row of the compact form (see the file comment). */
const functions = (schema: string) => [`
CREATE OR REPLACE FUNCTION ${schema}.smartcar_full(ts float8, cells jsonb, hist jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT COALESCE(hist, (SELECT COALESCE(jsonb_object_agg(key, jsonb_build_array(jsonb_build_array(ts, value))), '{}'::jsonb) FROM jsonb_each(cells)))
$fn$`, `
CREATE OR REPLACE FUNCTION ${schema}.smartcar_full(ts float8, cells json, hist jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT ${schema}.smartcar_full(ts, cells::jsonb, hist)
$fn$`, `
CREATE OR REPLACE FUNCTION ${schema}.smartcar_merge(ots float8, ocells jsonb, ohist jsonb, nts float8, ncells jsonb, nhist jsonb, keep int,
  OUT ts float8, OUT cells jsonb, OUT hist jsonb)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  acc jsonb := ${schema}.smartcar_full(ots, ocells, ohist);
  col text;
  versions jsonb;
  cur jsonb;
  i int;
  stamps int;
  single boolean;
BEGIN
  FOR col, versions IN SELECT key, value FROM jsonb_each(${schema}.smartcar_full(nts, ncells, nhist)) LOOP
    cur := COALESCE(acc -> col, '[]'::jsonb);
    FOR i IN REVERSE jsonb_array_length(versions) - 1 .. 0 LOOP
      IF jsonb_array_length(cur) = 0 OR (cur -> 0 ->> 1) IS DISTINCT FROM (versions -> i ->> 1) THEN
        cur := jsonb_build_array(versions -> i) || cur;
      END IF;
    END LOOP;
    IF jsonb_array_length(cur) > keep THEN
      SELECT COALESCE(jsonb_agg(e ORDER BY n), '[]'::jsonb) INTO cur FROM jsonb_array_elements(cur) WITH ORDINALITY AS x(e, n) WHERE n <= keep;
    END IF;
    acc := acc || jsonb_build_object(col, cur);
  END LOOP;
  SELECT COALESCE(jsonb_object_agg(key, value -> 0 -> 1), '{}'::jsonb), count(DISTINCT value -> 0 -> 0), COALESCE(bool_and(jsonb_array_length(value) = 1), true), max((value -> 0 ->> 0)::float8)
    INTO cells, stamps, single, ts FROM jsonb_each(acc);
  -- The compact form when every column has one version and all share one stamp.
  hist := CASE WHEN single AND stamps <= 1 THEN NULL ELSE acc END;
  ts := COALESCE(ts, nts);
END
$fn$`];

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** The keys that occur more than once in `rows`, if any. */
function repeatedKeys(rows: PutRow[]): Set<string> | undefined {
  const seen = new Set<string>();
  let dup: Set<string> | undefined;
  for (const r of rows) {
    if (seen.has(r.row)) (dup ??= new Set()).add(r.row);
    else seen.add(r.row);
  }
  return dup;
}

/**
 * The batch as binary COPY data. A key put twice in one batch (`dup`; rare: the stream's keys are unique
 * per batch) is merged here first, as sequential puts would merge it, and staged as its full stored row.
 * Nothing is cut to `keep` here: which staged version counts as new depends on the stored row's newest
 * value, so the SQL merge sees them all and cuts afterwards.
 */
function encode(rows: PutRow[], timestamp: number, jsonb: boolean, desc?: TableDescriptor, dup?: Set<string>): Buffer {
  const copy = new CopyWriter(rows.length * 256, jsonb);
  if (!dup || !desc) {
    for (const r of rows) copy.add(r.row, timestamp, r.cells);
    return copy.finish();
  }
  const merged = new Map<string, StoredRow>();
  const uncut = { ...desc, maxVersions: Number.MAX_SAFE_INTEGER };
  for (const r of rows) {
    if (!dup.has(r.row)) copy.add(r.row, timestamp, r.cells);
    else merged.set(r.row, mergeCells(uncut, merged.get(r.row), r.cells, timestamp));
  }
  for (const [row, full] of merged) {
    const newest: Record<string, string> = {};
    for (const col in full) newest[col] = full[col][0][1];
    copy.add(row, timestamp, newest, full);
  }
  return copy.finish();
}

/** A putMany's batch as encodeBatch left it for its turn to be written. */
interface EncodedBatch { rows: PutRow[]; desc: TableDescriptor; jsonb: boolean; timestamp: number; data: Buffer }

export class PostgresTableStore implements TableStore {
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private ready?: Promise<void>;
  private readonly descs = new Map<string, TableDescriptor>();
  /** Per table: batches left to take the merge path after a direct COPY met an existing row. */
  private readonly mergeRuns = new Map<string, number>();
  /** Per table: its `cells` column is jsonb (tables of earlier versions) rather than json. */
  private readonly jsonb = new Map<string, boolean>();

  constructor(url: string, schema = 'smartcar') {
    this.pool = new pg.Pool({ connectionString: url, max: 4 });
    this.schema = ident(schema);
  }

  /**
   * Runs DDL under a transaction-scoped advisory lock: concurrent `CREATE … IF NOT EXISTS` from several
   * workers starting together can otherwise fail with a duplicate-key error in PostgreSQL's catalog.
   */
  private async ddl(statements: { sql: string; args?: unknown[] }[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('smartcar-table-ddl'))`);
      for (const st of statements) await client.query(st.sql, st.args);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private init(): Promise<void> {
    this.ready ??= this.ddl([
      { sql: `CREATE SCHEMA IF NOT EXISTS ${this.schema}` },
      { sql: `CREATE TABLE IF NOT EXISTS ${this.schema}.smartcar_tables (name text PRIMARY KEY, families text[] NOT NULL, max_versions int NOT NULL)` },
      ...functions(this.schema).map((sql) => ({ sql })),
    ]).catch((err: Error) => {
      this.ready = undefined;
      throw new UserError(`cannot use PostgreSQL for the table store: ${err.message}`);
    });
    return this.ready;
  }

  private t(name: string): string {
    return `${this.schema}.${ident('t_' + name)}`;
  }

  private async desc(name: string): Promise<TableDescriptor> {
    await this.init();
    let d = this.descs.get(name);
    if (d) return d;
    const r = await this.pool.query('SELECT families, max_versions FROM ' + this.schema + '.smartcar_tables WHERE name = $1', [name]);
    if (!r.rows.length) {
      const all = (await this.listTables()).map((x) => x.name);
      throw new UserError(`no table '${name}' (tables: ${all.join(', ') || 'none'})`);
    }
    d = { name, families: r.rows[0].families, maxVersions: r.rows[0].max_versions };
    this.jsonb.set(name, await this.upgrade(name));
    this.descs.set(name, d);
    return d;
  }

  /**
   * Converts a table of the first layout (`row, cells` = the full stored row) to the current one, and
   * tells whether its `cells` is jsonb (tables created before json) or json.
   */
  private async upgrade(name: string): Promise<boolean> {
    const cols = await this.pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name IN ('ts', 'cells')`,
      [this.schema.slice(1, -1).replace(/""/g, '"'), 't_' + name],
    );
    const cells = cols.rows.find((c) => c.column_name === 'cells');
    if (!cells) throw new UserError(`table '${name}' has no cells column in PostgreSQL (${this.t(name)}): not a table of this store`);
    const jsonb = cells.data_type === 'jsonb';
    if (cols.rows.some((c) => c.column_name === 'ts')) return jsonb;
    await this.ddl([
      { sql: `ALTER TABLE ${this.t(name)} ADD COLUMN IF NOT EXISTS ts float8, ADD COLUMN IF NOT EXISTS hist jsonb` },
      { sql: `UPDATE ${this.t(name)} u SET (ts, cells, hist) = (SELECT m.ts, m.cells, m.hist FROM ${this.schema}.smartcar_merge(0, '{}'::jsonb, NULL, 0, '{}'::jsonb, u.cells::jsonb, 2147483647) m) WHERE u.ts IS NULL` },
    ]);
    return jsonb;
  }

  /** `expr` (a cells value of `table`) as jsonb, for the jsonb operators and functions. */
  private asJsonb(table: string, expr: string): string {
    return this.jsonb.get(table) ? expr : `${expr}::jsonb`;
  }

  /** `expr` (jsonb) as the type of `table`'s cells column. */
  private asCells(table: string, expr: string): string {
    return this.jsonb.get(table) ? expr : `(${expr})::json`;
  }

  async createTable(desc: TableDescriptor): Promise<void> {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(desc.name)) throw new UserError(`invalid table name '${desc.name}'`);
    await this.init();
    await this.ddl([
      { sql: `CREATE TABLE IF NOT EXISTS ${this.t(desc.name)} (row text COLLATE "C" PRIMARY KEY, ts float8, cells json NOT NULL, hist jsonb)` },
      { sql: `INSERT INTO ${this.schema}.smartcar_tables (name, families, max_versions) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, args: [desc.name, desc.families, desc.maxVersions ?? 1] },
    ]);
  }

  async listTables(): Promise<TableDescriptor[]> {
    await this.init();
    const r = await this.pool.query(`SELECT name, families, max_versions FROM ${this.schema}.smartcar_tables ORDER BY name`);
    return r.rows.map((x) => ({ name: x.name, families: x.families, maxVersions: x.max_versions }));
  }

  async put(table: string, row: string, cells: Record<string, string>, timestamp = Date.now()): Promise<void> {
    await this.putMany(table, [{ row, cells }], timestamp);
  }

  /**
   * Every putMany is encoded when it is called and written in call order, one at a time: the next batch's
   * COPY data is ready when the one before commits, so PostgreSQL does not wait for this process to encode
   * it (a stream worker's batches, `npm run bench:stream`).
   */
  readonly orderedWrites = true;
  private writes: Promise<unknown> = Promise.resolve();

  putMany(table: string, batch: PutRow[] | RowBatch, timestamp = Date.now()): Promise<void> {
    if (!batch.length) return Promise.resolve();
    const encoded = this.encodeBatch(table, batch, timestamp);
    const before = this.writes;
    const written = (async () => {
      const e = await encoded;
      await before;
      await this.write(table, e);
    })();
    // The next write waits for this one and every one before it, whatever their outcome.
    this.writes = Promise.allSettled([before, written]);
    return written;
  }

  /** A batch's rows, checked, and their COPY data for the direct path (also the merge path's, with no key put twice). */
  private async encodeBatch(table: string, batch: PutRow[] | RowBatch, timestamp: number): Promise<EncodedBatch> {
    const rows = Array.isArray(batch) ? batch : batch.rows();
    const desc = await this.desc(table);
    const jsonb = this.jsonb.get(table) === true;
    for (const r of rows) checkColumns(desc, r.cells);
    return { rows, desc, jsonb, timestamp, data: encode(rows, timestamp, jsonb) };
  }

  private async write(table: string, { rows, desc, jsonb, timestamp, data }: EncodedBatch): Promise<void> {
    const keep = desc.maxVersions ?? 1;
    const client = await this.pool.connect();
    try {
      const run = this.mergeRuns.get(table) ?? 0;
      if (rows.length >= DIRECT_MIN_ROWS && run === 0) {
        // Keys are not checked for repeats first (a Set of every key cost the worker ~0.3 µs a row): a
        // key put twice fails the COPY on the primary key like an existing row does, and then it is seen.
        await client.query('BEGIN');
        try {
          await this.copyIn(client, `COPY ${this.t(table)} (row, ts, cells, hist) FROM STDIN (FORMAT binary)`, data);
          await client.query('COMMIT');
          return;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          if ((err as { code?: string }).code !== '23505') throw err;
          this.mergeRuns.set(table, MERGE_RUN);
        }
      } else if (run > 0) {
        this.mergeRuns.set(table, run - 1);
      }
      const dup = repeatedKeys(rows);
      if (dup) data = encode(rows, timestamp, jsonb, desc, dup);
      const stage = await this.stage(client, jsonb);
      await client.query('BEGIN');
      await this.copyIn(client, `COPY ${stage} (row, ts, cells, hist) FROM STDIN (FORMAT binary)`, data);
      const [oldCells, newCells] = [this.asJsonb(table, 't.cells'), this.asJsonb(table, 'EXCLUDED.cells')];
      const merge = `(SELECT m.ts, ${this.asCells(table, 'm.cells')}, m.hist FROM ${this.schema}.smartcar_merge(t.ts, ${oldCells}, t.hist, EXCLUDED.ts, ${newCells}, EXCLUDED.hist, ${Number(keep)}) m)`;
      const [inserted] = (await client.query(
        `INSERT INTO ${this.t(table)} AS t (row, ts, cells, hist) SELECT row, ts, cells, hist FROM ${stage} ORDER BY row ` +
        `ON CONFLICT (row) DO UPDATE SET (ts, cells, hist) = ${merge} WHERE NOT (EXCLUDED.hist IS NULL AND ${oldCells} @> ${newCells}); COMMIT`,
      )) as unknown as pg.QueryResult[];
      // A run of merge batches ends early at a batch that held no replayed row (every staged row was
      // written): the stream is past what it read again, and its next batch can be copied directly.
      if (rows.length >= DIRECT_MIN_ROWS && !dup && inserted.rowCount === rows.length) this.mergeRuns.delete(table);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private copyIn(client: pg.PoolClient, sql: string, data: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(sql));
      stream.on('error', reject);
      stream.on('finish', () => resolve());
      stream.end(data);
    });
  }

  /**
   * The connection's staging table for a json or a jsonb `cells` (a temporary table: no WAL, emptied at
   * each commit), so that one COPY buffer serves the direct and the merge path.
   */
  private async stage(client: pg.PoolClient, jsonb: boolean): Promise<string> {
    const name = jsonb ? 'smartcar_stage' : 'smartcar_stage_json';
    let have = staged.get(client);
    if (have?.has(name)) return `pg_temp.${name}`;
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${name} (row text COLLATE "C", ts float8, cells ${jsonb ? 'jsonb' : 'json'}, hist jsonb) ON COMMIT DELETE ROWS`);
    if (!have) staged.set(client, (have = new Set()));
    have.add(name);
    return `pg_temp.${name}`;
  }

  async get(table: string, row: string): Promise<Row | null> {
    await this.desc(table);
    const r = await this.pool.query(`SELECT cells FROM ${this.t(table)} WHERE row = $1`, [row]);
    return r.rows.length ? { row, cells: r.rows[0].cells } : null;
  }

  /** Every stored version of a column, newest first. */
  async getVersions(table: string, row: string, column: string): Promise<{ timestamp: number; value: string }[]> {
    await this.desc(table);
    const r = await this.pool.query(`SELECT ${this.schema}.smartcar_full(ts, cells, hist) -> $2 AS v FROM ${this.t(table)} WHERE row = $1`, [row, column]);
    return ((r.rows[0]?.v ?? []) as [number, string][]).map(([timestamp, value]) => ({ timestamp, value }));
  }

  async delete(table: string, row: string, columns?: string[]): Promise<void> {
    await this.desc(table);
    if (!columns?.length) {
      await this.pool.query(`DELETE FROM ${this.t(table)} WHERE row = $1`, [row]);
      return;
    }
    // The row goes when no column is left, else the columns go.
    const cells = this.asJsonb(table, 'cells');
    await this.pool.query(`DELETE FROM ${this.t(table)} WHERE row = $1 AND ${cells} - $2::text[] = '{}'::jsonb`, [row, columns]);
    await this.pool.query(`UPDATE ${this.t(table)} SET cells = ${this.asCells(table, `${cells} - $2::text[]`)}, hist = hist - $2::text[] WHERE row = $1`, [row, columns]);
  }

  async *scan(table: string, opts: ScanOptions = {}): AsyncIterable<Row> {
    await this.desc(table);
    let start = opts.start, stop = opts.stop;
    if (opts.prefix !== undefined) {
      if (start === undefined || start < opts.prefix) start = opts.prefix;
      const pEnd = opts.prefix + '\uffff';
      if (stop === undefined || stop > pEnd) stop = pEnd;
    }
    const desc = !!opts.reverse;
    const filters = opts.filters ?? [];
    let cursor: string | undefined;
    let n = 0;
    for (;;) {
      const where: string[] = [];
      const args: unknown[] = [];
      const arg = (v: unknown) => { args.push(v); return '$' + args.length; };
      if (start !== undefined) where.push(`row >= ${arg(start)}`);
      if (stop !== undefined) where.push(`row < ${arg(stop)}`);
      if (cursor !== undefined) where.push(`row ${desc ? '<' : '>'} ${arg(cursor)}`);
      for (const f of filters) where.push(filterSql(f, arg));
      const r = await this.pool.query(`SELECT row, cells FROM ${this.t(table)} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY row ${desc ? 'DESC' : 'ASC'} LIMIT 1000`, args);
      for (const x of r.rows) {
        const row: Row = { row: x.row, cells: x.cells };
        if (filters.length && !matchesFilters(row, filters)) continue;
        yield row;
        if (opts.limit !== undefined && ++n >= opts.limit) return;
      }
      if (r.rows.length < 1000) return;
      cursor = r.rows[r.rows.length - 1].row;
    }
  }

  async count(table: string): Promise<number> {
    await this.desc(table);
    return Number((await this.pool.query(`SELECT count(*) FROM ${this.t(table)}`)).rows[0].count);
  }

  /** Drops the whole schema (tests and benchmarks). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    // Writes already asked for finish first (their callers see their outcome, not a closed pool).
    await this.writes;
    await this.pool.end();
  }
}
