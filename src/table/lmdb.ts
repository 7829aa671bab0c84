/**
 * The embedded table store on LMDB: one named database per table, rows ordered by key (the same
 * byte order HBase uses for its row keys). A row is one LMDB value holding every column's versions,
 * newest first: `{ "cf1:speed": [[ts, "120"], [ts, "95"]], … }` (msgpack-encoded by lmdb-js; a new row's
 * bytes are written directly by `encodeNewRow`, the same MessagePack that decodes to the same object).
 *
 * LMDB gives multi-process readers with one writer at a time: `smartcar table scan` reads a store
 * the stream workers are writing, and always sees committed rows.
 */
import fs from 'node:fs';
import { asBinary, open, type Database, type RootDatabase } from 'lmdb';
import { UserError } from '../core/index.ts';
import { matchesFilters } from './filter.ts';
import { checkColumns, encodeNewRow, mergeCells, toRow, withoutColumns, type StoredRow as Stored } from './cells.ts';
import type { PutRow, Row, ScanOptions, TableDescriptor, TableStore } from './types.ts';

const NO_OVERWRITE = { noOverwrite: true };
const CHUNK = 256 * 1024;
/** lmdb-js's `put(key, value, { noOverwrite })` form, which its typings do not declare. */
type PutNoOverwrite = (key: string, value: unknown, options: typeof NO_OVERWRITE) => { result?: boolean };

export class LmdbTableStore implements TableStore {
  private readonly root: RootDatabase;
  private readonly meta: Database<TableDescriptor, string>;
  private readonly dbs = new Map<string, { db: Database<Stored, string>; desc: TableDescriptor }>();

  constructor(path: string) {
    fs.mkdirSync(path, { recursive: true });
    this.root = open({ path, maxDbs: 64, mapSize: 64 * 1024 ** 3 });
    this.meta = this.root.openDB<TableDescriptor, string>({ name: '__tables' });
  }

  private table(name: string) {
    let t = this.dbs.get(name);
    if (t) return t;
    const desc = this.meta.get(name);
    if (!desc) throw new UserError(`no table '${name}' (tables: ${[...this.meta.getKeys()].join(', ') || 'none'})`);
    // mapsAsObjects: rows written as plain MessagePack maps (encodeNewRow) decode to the same object as
    // the encoder's own records do; the encoder never wrote maps into these databases before.
    const options = { name: `t:${name}`, mapsAsObjects: true };
    t = { db: this.root.openDB<Stored, string>(options), desc };
    this.dbs.set(name, t);
    return t;
  }

  async createTable(desc: TableDescriptor): Promise<void> {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(desc.name)) throw new UserError(`invalid table name '${desc.name}'`);
    if (this.meta.get(desc.name)) return;
    await this.meta.put(desc.name, { name: desc.name, families: desc.families, maxVersions: desc.maxVersions ?? 1 });
  }

  async listTables(): Promise<TableDescriptor[]> {
    return [...this.meta.getRange()].map((e) => e.value);
  }

  async put(table: string, row: string, cells: Record<string, string>, timestamp = Date.now()): Promise<void> {
    await this.putMany(table, [{ row, cells }], timestamp);
  }

  async putMany(table: string, rows: PutRow[], timestamp = Date.now()): Promise<void> {
    const { db, desc } = this.table(table);
    for (const r of rows) checkColumns(desc, r.cells);
    // New rows (the stream's case) go in as their MessagePack bytes, encoded here; an existing row is
    // read, merged (versions) and re-encoded as before.
    const direct = (desc.maxVersions ?? 1) >= 1;
    await db.transaction(() => {
      // Rows are encoded into 256 KiB chunks (a bigger one for a row that does not fit).
      let out = Buffer.allocUnsafe(0);
      let pos = 0;
      for (const r of rows) {
        if (direct) {
          let end = encodeNewRow(r.cells, timestamp, out, pos);
          if (end < 0) {
            out = Buffer.allocUnsafe(Math.max(CHUNK, 64 + 4 * JSON.stringify(r.cells).length));
            pos = 0;
            end = encodeNewRow(r.cells, timestamp, out, pos);
          }
          if (end >= 0) {
            // MDB_NOOVERWRITE: one B-tree descent writes a new row; an existing one makes the put fail
            // (inside a write transaction lmdb-js answers at once, `result: false`) and is merged below.
            const put = (db as unknown as { put: PutNoOverwrite }).put(r.row, asBinary(out.subarray(pos, end)), NO_OVERWRITE);
            pos = end;
            if (put.result === true) continue;
          }
        }
        db.put(r.row, mergeCells(desc, db.get(r.row), r.cells, timestamp));
      }
    });
  }

  async get(table: string, row: string): Promise<Row | null> {
    const v = this.table(table).db.get(row);
    return v ? toRow(row, v) : null;
  }

  /** Every stored version of a column, newest first. */
  async getVersions(table: string, row: string, column: string): Promise<{ timestamp: number; value: string }[]> {
    const v = this.table(table).db.get(row);
    return (v?.[column] ?? []).map(([timestamp, value]) => ({ timestamp, value }));
  }

  async delete(table: string, row: string, columns?: string[]): Promise<void> {
    const { db } = this.table(table);
    if (!columns?.length) {
      await db.remove(row);
      return;
    }
    await db.transaction(() => {
      const v = db.get(row);
      if (!v) return;
      const next = withoutColumns(v, columns);
      if (next) db.put(row, next);
      else db.remove(row);
    });
  }

  async *scan(table: string, opts: ScanOptions = {}): AsyncIterable<Row> {
    const { db } = this.table(table);
    let start = opts.start, end = opts.stop;
    if (opts.prefix !== undefined) {
      if (start === undefined || start < opts.prefix) start = opts.prefix;
      const pEnd = opts.prefix + '\uffff';
      if (end === undefined || end > pEnd) end = pEnd;
    }
    const range = opts.reverse
      ? db.getRange({ start: end, reverse: true, snapshot: true })
      : db.getRange({ start, end, snapshot: true });
    let n = 0;
    for (const { key, value } of range) {
      // A reverse range starts at `end` inclusive; the stop row is exclusive.
      if (opts.reverse) {
        if (end !== undefined && key >= end) continue;
        if (start !== undefined && key < start) return;
      }
      const row = toRow(key, value);
      if (opts.filters?.length && !matchesFilters(row, opts.filters)) continue;
      yield row;
      if (opts.limit !== undefined && ++n >= opts.limit) return;
    }
  }

  async count(table: string): Promise<number> {
    return this.table(table).db.getCount();
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
