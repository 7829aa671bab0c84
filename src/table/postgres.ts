/**
 * The table store on PostgreSQL: one table per store table, `<schema>."t_<name>"(row text primary
 * key collate "C", cells jsonb)`, the same stored-row shape as LMDB (cells.ts:
 * `{"cf1:speed": [[ts, "120"], [ts, "95"]], …}`), and a catalog table `<schema>.smartcar_tables`.
 * `collate "C"` gives HBase's byte order for ranges and scans.
 *
 * putMany is one transaction: the batch goes in by binary COPY (pgcopy.ts) into the connection's
 * temporary staging table, then one `INSERT … SELECT … ON CONFLICT (row) DO UPDATE` moves it into the
 * table. A new row is inserted as staged; an existing row (a replay after a crash, or a put of other
 * columns) is merged by `<schema>.smartcar_merge(old, new, keep)`, the SQL twin of cells.ts's
 * mergeCells: each staged version, oldest first, becomes the column's newest unless it equals the
 * current newest value (so a replay changes nothing), then the column keeps `keep` versions. A row the
 * merge leaves equal is not rewritten. Several workers may write the same table at once: ON CONFLICT
 * locks each row it merges.
 *
 * Reads push their conditions into SQL: `get` by primary key; `scan` by key range, prefix, direction
 * and column filters (pgfilter.ts), paging 1,000 rows at a time; filters are then checked exactly in
 * JavaScript, as in every adapter.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { UserError } from '../core/errors.ts';
import { matchesFilters } from './filter.ts';
import { filterSql } from './pgfilter.ts';
import { CopyWriter, newRowJson } from './pgcopy.ts';
import { checkColumns, mergeCells, toRow, type StoredRow } from './cells.ts';
import type { PutRow, Row, ScanOptions, TableDescriptor, TableStore } from './types.ts';

/** Connections that have created their staging table (temporary tables live as long as the session). */
const staged = new WeakSet<pg.PoolClient>();

/** The merge of a staged row into a stored one (see the file comment). */
const mergeFunction = (schema: string) => `
CREATE OR REPLACE FUNCTION ${schema}.smartcar_merge(old jsonb, staged jsonb, keep int) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  col text;
  versions jsonb;
  cur jsonb;
  i int;
BEGIN
  IF old IS NULL THEN RETURN staged; END IF;
  FOR col, versions IN SELECT key, value FROM jsonb_each(staged) LOOP
    cur := COALESCE(old -> col, '[]'::jsonb);
    FOR i IN REVERSE jsonb_array_length(versions) - 1 .. 0 LOOP
      IF jsonb_array_length(cur) = 0 OR (cur -> 0 ->> 1) IS DISTINCT FROM (versions -> i ->> 1) THEN
        cur := jsonb_build_array(versions -> i) || cur;
      END IF;
    END LOOP;
    IF jsonb_array_length(cur) > keep THEN
      SELECT COALESCE(jsonb_agg(e ORDER BY n), '[]'::jsonb) INTO cur FROM jsonb_array_elements(cur) WITH ORDINALITY AS x(e, n) WHERE n <= keep;
    END IF;
    old := old || jsonb_build_object(col, cur);
  END LOOP;
  RETURN old;
END
$fn$`;

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

export class PostgresTableStore implements TableStore {
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private ready?: Promise<void>;
  private readonly descs = new Map<string, TableDescriptor>();

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
      { sql: mergeFunction(this.schema) },
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
    this.descs.set(name, d);
    return d;
  }

  async createTable(desc: TableDescriptor): Promise<void> {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(desc.name)) throw new UserError(`invalid table name '${desc.name}'`);
    await this.init();
    await this.ddl([
      { sql: `CREATE TABLE IF NOT EXISTS ${this.t(desc.name)} (row text COLLATE "C" PRIMARY KEY, cells jsonb NOT NULL)` },
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

  async putMany(table: string, rows: PutRow[], timestamp = Date.now()): Promise<void> {
    if (!rows.length) return;
    const desc = await this.desc(table);
    const keep = desc.maxVersions ?? 1;
    const copy = new CopyWriter(rows.length * 320);
    const tsJson = JSON.stringify(timestamp);
    // A key put twice in one batch (rare: the stream's keys are unique per batch) is merged here first,
    // as sequential puts would merge it; the SQL merge then applies its versions oldest first.
    const seen = new Set<string>();
    let dup: Set<string> | undefined;
    for (const r of rows) {
      checkColumns(desc, r.cells);
      if (seen.has(r.row)) (dup ??= new Set()).add(r.row);
      else seen.add(r.row);
    }
    if (!dup) {
      for (const r of rows) copy.add(r.row, newRowJson(r.cells, tsJson));
    } else {
      const merged = new Map<string, StoredRow>();
      for (const r of rows) {
        if (!dup.has(r.row)) copy.add(r.row, newRowJson(r.cells, tsJson));
        else merged.set(r.row, mergeCells(desc, merged.get(r.row), r.cells, timestamp));
      }
      for (const [row, m] of merged) copy.addStored(row, m);
    }
    const data = copy.finish();
    const client = await this.pool.connect();
    try {
      await this.stage(client);
      await client.query('BEGIN');
      await new Promise<void>((resolve, reject) => {
        const stream = client.query(copyFrom('COPY pg_temp.smartcar_stage (row, cells) FROM STDIN (FORMAT binary)'));
        stream.on('error', reject);
        stream.on('finish', () => resolve());
        stream.end(data);
      });
      // One merge statement: new rows are inserted as staged; an existing row (a replay, or a put of
      // other columns) gets the staged versions merged in SQL, and is left untouched when nothing changes.
      const merge = `${this.schema}.smartcar_merge(t.cells, EXCLUDED.cells, ${Number(keep)})`;
      await client.query(
        `INSERT INTO ${this.t(table)} AS t (row, cells) SELECT row, cells FROM pg_temp.smartcar_stage ` +
        `ON CONFLICT (row) DO UPDATE SET cells = ${merge} WHERE t.cells IS DISTINCT FROM ${merge}; COMMIT`,
      );
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** The connection's staging table (a temporary table: no WAL, emptied at each commit). */
  private async stage(client: pg.PoolClient): Promise<void> {
    if (staged.has(client)) return;
    await client.query('CREATE TEMP TABLE IF NOT EXISTS smartcar_stage (row text COLLATE "C", cells jsonb) ON COMMIT DELETE ROWS');
    staged.add(client);
  }

  async get(table: string, row: string): Promise<Row | null> {
    await this.desc(table);
    const r = await this.pool.query(`SELECT cells FROM ${this.t(table)} WHERE row = $1`, [row]);
    return r.rows.length ? toRow(row, r.rows[0].cells) : null;
  }

  async delete(table: string, row: string, columns?: string[]): Promise<void> {
    await this.desc(table);
    if (!columns?.length) {
      await this.pool.query(`DELETE FROM ${this.t(table)} WHERE row = $1`, [row]);
      return;
    }
    // The row goes when no column is left, else the columns go.
    await this.pool.query(`DELETE FROM ${this.t(table)} WHERE row = $1 AND cells - $2::text[] = '{}'::jsonb`, [row, columns]);
    await this.pool.query(`UPDATE ${this.t(table)} SET cells = cells - $2::text[] WHERE row = $1`, [row, columns]);
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
        const row = toRow(x.row, x.cells);
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
    await this.pool.end();
  }
}
