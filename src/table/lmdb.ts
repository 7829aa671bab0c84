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
import { open, type Database, type RootDatabase } from 'lmdb';
import { UserError } from '../core/index.ts';
import { matchesFilters } from './filter.ts';
import { LmdbWriter, encodeRows } from './lmdb-writer.ts';
import { checkColumns, mergeCells, toRow, withoutColumns, type StoredRow as Stored } from './cells.ts';
import type { PutRow, Row, ScanOptions, TableDescriptor, TableStore } from './types.ts';

const MAX_DBS = 64;
const MAP_SIZE = 64 * 1024 ** 3;

export class LmdbTableStore implements TableStore {
  private readonly root: RootDatabase;
  private readonly meta: Database<TableDescriptor, string>;
  private readonly dbs = new Map<string, { db: Database<Stored, string>; desc: TableDescriptor }>();

  /** Every putMany goes through the one writer thread's queue, in call order. */
  readonly orderedWrites = true;
  private writerThread: LmdbWriter | undefined;
  private closing = false;

  constructor(private readonly path: string) {
    fs.mkdirSync(path, { recursive: true });
    this.root = open({ path, maxDbs: MAX_DBS, mapSize: MAP_SIZE });
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
    if (rows.length === 0) return;
    // New rows (the stream's case) go to the writer thread as their MessagePack bytes, encoded here. When
    // one of them exists, the writer leaves the batch to this thread: read, merged (versions), re-encoded.
    // A table that keeps no versions always merges, in its turn of the writer's queue.
    const writer = this.writer();
    const outcome = await writer.write(table, (desc.maxVersions ?? 1) >= 1 ? encodeRows(rows, timestamp) : null);
    // This thread's read snapshot may predate the writer's commit: the next read takes a fresh one.
    this.root.resetReadTxn();
    if (outcome === 'merge') {
      try {
        await this.merge(db, desc, rows, timestamp);
      } finally {
        writer.resume();
      }
    }
  }

  private async merge(db: Database<Stored, string>, desc: TableDescriptor, rows: PutRow[], timestamp: number): Promise<void> {
    await db.transaction(() => {
      for (const r of rows) db.put(r.row, mergeCells(desc, db.get(r.row), r.cells, timestamp));
    });
  }

  private writer(): LmdbWriter {
    if (this.closing) throw new Error('the LMDB table store is closed');
    this.writerThread ??= new LmdbWriter({ path: this.path, maxDbs: MAX_DBS, mapSize: MAP_SIZE });
    return this.writerThread;
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
    this.closing = true;
    await this.writerThread?.close();
    await this.root.close();
  }
}
