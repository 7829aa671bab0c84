/**
 * The table store on PostgreSQL: one table per store table, `<schema>."t_<name>"(row text primary
 * key collate "C", cells jsonb)`, the same stored-row shape as LMDB (cells.ts), and a catalog table
 * `<schema>.smartcar_tables`. `collate "C"` gives HBase's byte order for ranges and scans.
 *
 * putMany is one transaction of two round trips: read the batch's existing rows, merge versions in
 * JavaScript (the same code as LMDB), and upsert them all with one `unnest` statement.
 * Scans page through the key range 1,000 rows at a time; column filters apply as in every adapter.
 */
import pg from 'pg';
import { UserError } from '../core/errors.ts';
import { matchesFilters } from './filter.ts';
import { checkColumns, mergeCells, toRow, withoutColumns, type StoredRow } from './cells.ts';
import type { PutRow, Row, ScanOptions, TableDescriptor, TableStore } from './types.ts';

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
    for (const r of rows) checkColumns(desc, r.cells);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const keys = [...new Set(rows.map((r) => r.row))];
      const existing = new Map<string, StoredRow>();
      const cur = await client.query(`SELECT row, cells FROM ${this.t(table)} WHERE row = ANY($1::text[]) FOR UPDATE`, [keys]);
      for (const x of cur.rows) existing.set(x.row, x.cells);
      for (const r of rows) existing.set(r.row, mergeCells(desc, existing.get(r.row), r.cells, timestamp));
      const out = keys.map((k) => JSON.stringify(existing.get(k)));
      await client.query(`INSERT INTO ${this.t(table)} (row, cells) SELECT * FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT (row) DO UPDATE SET cells = EXCLUDED.cells`, [keys, out]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
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
    const r = await this.pool.query(`SELECT cells FROM ${this.t(table)} WHERE row = $1`, [row]);
    if (!r.rows.length) return;
    const next = withoutColumns(r.rows[0].cells, columns);
    if (next) await this.pool.query(`UPDATE ${this.t(table)} SET cells = $2 WHERE row = $1`, [row, JSON.stringify(next)]);
    else await this.pool.query(`DELETE FROM ${this.t(table)} WHERE row = $1`, [row]);
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
    let cursor: string | undefined;
    let n = 0;
    for (;;) {
      const where: string[] = [];
      const args: string[] = [];
      const add = (sql: string, v: string) => { args.push(v); where.push(sql.replace('?', '$' + args.length)); };
      if (start !== undefined) add('row >= ?', start);
      if (stop !== undefined) add('row < ?', stop);
      if (cursor !== undefined) add(desc ? 'row < ?' : 'row > ?', cursor);
      const r = await this.pool.query(`SELECT row, cells FROM ${this.t(table)} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY row ${desc ? 'DESC' : 'ASC'} LIMIT 1000`, args);
      for (const x of r.rows) {
        const row = toRow(x.row, x.cells);
        if (opts.filters?.length && !matchesFilters(row, opts.filters)) continue;
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
