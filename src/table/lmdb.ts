/**
 * The embedded table store on LMDB: one named database per table, rows ordered by key (the same
 * byte order HBase uses for its row keys). A row is one LMDB value holding every column's versions:
 * compact (`[ts, columnSet, values…]`, every row the stream writes) or full (`{ "cf1:speed": [[ts, "120"],
 * [ts, "95"]], … }`, newest first), both MessagePack; lmdb-rows.ts describes the two forms.
 *
 * LMDB gives multi-process readers with one writer at a time: `smartcar table scan` reads a store
 * the stream workers are writing, and always sees committed rows.
 */
import fs from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { UserError } from '../core/index.ts';
import { matchesFilters } from './filter.ts';
import { LmdbWriter } from './lmdb-writer.ts';
import { COLUMNS_DB, columnSetKey, encodeDrivingRows, encodeRows, fullRowOf, rowOf, type CompactRow } from './lmdb-rows.ts';
import { DrivingRows } from './driver.ts';
import { checkColumnNames, checkColumns, mergeCells, withoutColumns, type StoredRow } from './cells.ts';
import type { PutRow, Row, RowBatch, ScanOptions, TableDescriptor, TableStore } from './types.ts';

const MAX_DBS = 64;
const MAP_SIZE = 64 * 1024 ** 3;

type Stored = StoredRow | CompactRow;
/** An open table: its database, descriptor, and how its compact rows' column sets resolve. */
interface OpenTable { db: Database<Stored, string>; desc: TableDescriptor; columnsOf: (hash: number) => string[] }

export class LmdbTableStore implements TableStore {
  private readonly root: RootDatabase;
  private readonly meta: Database<TableDescriptor, string>;
  private readonly dbs = new Map<string, OpenTable>();
  /** The column lists that compact rows name by hash (lmdb-rows.ts), under `<table>/<hash>`. */
  private readonly columnSets: Database<string[], string>;
  private readonly knownSets = new Map<string, string[]>();

  /** Every putMany goes through the one writer thread's queue, in call order. */
  readonly orderedWrites = true;
  private writerThread: LmdbWriter | undefined;
  private closing = false;

  constructor(private readonly path: string) {
    fs.mkdirSync(path, { recursive: true });
    this.root = open({ path, maxDbs: MAX_DBS, mapSize: MAP_SIZE });
    this.meta = this.root.openDB<TableDescriptor, string>({ name: '__tables' });
    this.columnSets = this.root.openDB<string[], string>({ name: COLUMNS_DB });
  }

  /** A compact row's column names. A set written since this thread's read snapshot: read again, fresh. */
  private columnsOf(table: string, hash: number): string[] {
    const key = columnSetKey(table, hash);
    let columns = this.knownSets.get(key);
    if (columns) return columns;
    columns = this.columnSets.get(key);
    if (!columns) {
      this.root.resetReadTxn();
      columns = this.columnSets.get(key);
    }
    if (!columns) throw new Error(`LMDB table '${table}': a row names column set ${hash}, which is not stored (the store is damaged)`);
    this.knownSets.set(key, columns);
    return columns;
  }

  private table(name: string) {
    let t = this.dbs.get(name);
    if (t) return t;
    const desc = this.meta.get(name);
    if (!desc) throw new UserError(`no table '${name}' (tables: ${[...this.meta.getKeys()].join(', ') || 'none'})`);
    // mapsAsObjects: full rows written as plain MessagePack maps by earlier versions decode to the same
    // object as the encoder's own records do.
    const options = { name: `t:${name}`, mapsAsObjects: true };
    t = { db: this.root.openDB<Stored, string>(options), desc, columnsOf: (hash: number) => this.columnsOf(name, hash) };
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

  async putMany(table: string, batch: PutRow[] | RowBatch, timestamp = Date.now()): Promise<void> {
    if (batch.length === 0) return;
    const t = this.table(table);
    const desc = t.desc;
    const keep = desc.maxVersions ?? 1;
    // The rows as objects, made once and only when needed: the stream's DrivingRows are encoded without.
    let list = Array.isArray(batch) ? batch : undefined;
    const rows = () => (list ??= (batch as RowBatch).rows());
    // The compact encoding checks each column set once; a table keeping no versions checks every row.
    if (keep < 1) for (const r of rows()) checkColumns(desc, r.cells);
    // New rows (the stream's case) go to the writer thread as their compact bytes, encoded here. When
    // one of them exists, the writer leaves the batch to this thread: read, merged (versions), re-encoded.
    // A table that keeps no versions always merges, in its turn of the writer's queue.
    const writer = this.writer();
    const check = (columns: string[]) => checkColumnNames(desc, columns);
    const job = keep < 1 ? null
      : batch instanceof DrivingRows ? encodeDrivingRows(batch.records, timestamp, check)
      : encodeRows(rows(), timestamp, check);
    const outcome = await writer.write(table, job);
    // This thread's read snapshot may predate the writer's commit: the next read takes a fresh one.
    this.root.resetReadTxn();
    if (outcome === 'merge') {
      try {
        await this.merge(t, rows(), timestamp);
      } finally {
        writer.resume();
      }
    }
  }

  private async merge(t: OpenTable, rows: PutRow[], timestamp: number): Promise<void> {
    const { db, desc, columnsOf } = t;
    await db.transaction(() => {
      for (const r of rows) {
        const prev = db.get(r.row);
        db.put(r.row, mergeCells(desc, prev && fullRowOf(prev, columnsOf), r.cells, timestamp));
      }
    });
  }

  private writer(): LmdbWriter {
    if (this.closing) throw new Error('the LMDB table store is closed');
    this.writerThread ??= new LmdbWriter({ path: this.path, maxDbs: MAX_DBS, mapSize: MAP_SIZE });
    return this.writerThread;
  }

  async get(table: string, row: string): Promise<Row | null> {
    const { db, columnsOf } = this.table(table);
    const v = db.get(row);
    return v ? rowOf(row, v, columnsOf) : null;
  }

  /** Every stored version of a column, newest first. */
  async getVersions(table: string, row: string, column: string): Promise<{ timestamp: number; value: string }[]> {
    const { db, columnsOf } = this.table(table);
    const v = db.get(row);
    return ((v && fullRowOf(v, columnsOf)[column]) ?? []).map(([timestamp, value]) => ({ timestamp, value }));
  }

  async delete(table: string, row: string, columns?: string[]): Promise<void> {
    const { db, columnsOf } = this.table(table);
    if (!columns?.length) {
      await db.remove(row);
      return;
    }
    await db.transaction(() => {
      const v = db.get(row);
      if (!v) return;
      const next = withoutColumns(fullRowOf(v, columnsOf), columns);
      if (next) db.put(row, next);
      else db.remove(row);
    });
  }

  async *scan(table: string, opts: ScanOptions = {}): AsyncIterable<Row> {
    const { db, columnsOf } = this.table(table);
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
      const row = rowOf(key, value, columnsOf);
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
