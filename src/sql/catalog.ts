/**
 * The SQL catalog (the Hive metastore role): a DuckDB database whose views read the lake. Views are
 * re-registered before each query when the lake's layout changed, so new partitions and new marts
 * appear without `ALTER TABLE`. Names are case-insensitive (DuckDB's identifiers are), so the seed's
 * spellings (`SmartCar_Status_Info`) work.
 *
 * `smartcar_drive_info` reads the table store: it is loaded from `DriverCarInfo` when a query names it.
 */
import { DuckDBInstance, JSDuckDBValueConverter, type DuckDBConnection } from '@duckdb/node-api';
import { dataPaths } from '../core/paths.ts';
import { DRIVER_TABLE } from '../core/records.ts';
import type { TableStore } from '../table/types.ts';
import { DRIVE_COLS, lakeViews } from './lake.ts';

export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

export interface Int32Result {
  columns: string[];
  rows: number;
  data: Int32Array[];
}

/** A result read chunk by chunk (about 2,048 rows each), never held whole. */
export interface QueryStream {
  columns: string[];
  types: string[];
  /** The next chunk's rows, or undefined at the end. */
  next(): Promise<unknown[][] | undefined>;
  /** Interrupts the query (a pending `next` then ends or rejects) and releases its connection. */
  cancel(): void;
}

export interface Catalog {
  query(sql: string): Promise<QueryResult>;
  /**
   * A result of integer columns as one Int32Array per column (no object per row): for reading
   * millions of feature rows. Every column must be castable to INTEGER and not null.
   */
  int32Columns(sql: string): Promise<Int32Result>;
  /** Runs a query on a connection of its own, streaming the result; `cancel` interrupts it. */
  stream(sql: string): Promise<QueryStream>;
  /** Runs statements that return nothing (COPY, CREATE …). */
  exec(sql: string): Promise<void>;
  tables(): Promise<string[]>;
  describe(table: string): Promise<{ column: string; type: string }[]>;
  close(): Promise<void>;
}

interface IntVectorFields { items?: unknown; validity?: { data?: unknown } }

/** Index of the first row whose validity bit is clear, or -1. */
function firstNull(words: BigUint64Array, n: number): number {
  for (let w = 0; w * 64 < n; w++) {
    const bits = Math.min(64, n - w * 64);
    const full = bits === 64 ? 0xffffffffffffffffn : (1n << BigInt(bits)) - 1n;
    if ((words[w] & full) !== full) {
      for (let b = 0; b < bits; b++) if (((words[w] >> BigInt(b)) & 1n) === 0n) return w * 64 + b;
    }
  }
  return -1;
}

const toJs = (v: unknown): unknown => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v);

/**
 * `sandbox`: the engine may touch no file outside the lake (DuckDB's `enable_external_access = false`
 * with `allowed_directories = [lake]`, configuration locked): `read_csv('/etc/passwd')`, `COPY … TO`,
 * `ATTACH` and `INSTALL` fail with a permission error, whatever the SQL.
 */
/**
 * `driveMaxAgeMs`: how old the copy of the table store behind `smartcar_drive_info` may get before a query that
 * names it loads it again (default 5 s). A one-shot `smartcar sql` loads it once; a long-lived catalog (the
 * console, the SQL server) sees puts and new records within that bound.
 */
export async function openCatalog(opts: { dataDir: string; table?: TableStore; threads?: number; sandbox?: boolean; driveMaxAgeMs?: number }): Promise<Catalog> {
  const lake = dataPaths(opts.dataDir).lake;
  const instance = await DuckDBInstance.create(':memory:', { threads: String(opts.threads ?? 2) });
  const conn: DuckDBConnection = await instance.connect();
  if (opts.sandbox) {
    await conn.run(`SET allowed_directories = ['${(lake + '/').replace(/'/g, "''")}']`);
    await conn.run(`SET enable_external_access = false`);
    await conn.run(`SET lock_configuration = true`);
  }
  let registered = '';

  const refresh = async () => {
    const views = lakeViews(lake);
    const key = JSON.stringify(views);
    if (key === registered) return;
    for (const [name, sql] of Object.entries(views)) await conn.run(`CREATE OR REPLACE VIEW ${name} AS ${sql}`);
    registered = key;
  };

  let driveLoadedAt = -Infinity;
  let driveLoading: Promise<void> | undefined;
  const loadDriveInfo = async (): Promise<void> => {
    if (driveLoading) return driveLoading;
    if (Date.now() - driveLoadedAt < (opts.driveMaxAgeMs ?? 5_000)) return;
    driveLoading = (async () => {
      const started = Date.now();
      await conn.run(`CREATE OR REPLACE TABLE smartcar_drive_info (${DRIVE_COLS.map((c) => `${c} VARCHAR`).join(', ')})`);
      driveLoadedAt = started;
      if (!opts.table) return;
      const tables = await opts.table.listTables();
      if (!tables.some((t) => t.name === DRIVER_TABLE)) return;
      const appender = await conn.createAppender('smartcar_drive_info');
      for await (const r of opts.table.scan(DRIVER_TABLE)) {
        appender.appendVarchar(r.row);
        for (const c of DRIVE_COLS.slice(1)) {
          const v = r.cells[`cf1:${c === 'r_date' ? 'date' : c}`];
          if (v === undefined) appender.appendNull();
          else appender.appendVarchar(v);
        }
        appender.endRow();
      }
      appender.closeSync();
    })().finally(() => { driveLoading = undefined; });
    return driveLoading;
  };

  const prepare = async (sql: string) => {
    await refresh();
    if (/\bsmartcar_drive_info\b(?!_2)/i.test(sql)) await loadDriveInfo();
  };

  const catalog: Catalog = {
    async query(sql) {
      await prepare(sql);
      const r = await conn.runAndReadAll(sql);
      return { columns: r.columnNames(), rows: r.getRowsJS().map((row) => row.map(toJs)) };
    },
    async int32Columns(sql) {
      await prepare(sql);
      // Materialized in DuckDB's memory, then copied vector by vector into typed arrays.
      const r = await conn.run(`SELECT COLUMNS(*)::INTEGER FROM (${sql})`);
      const names = r.columnNames();
      const data = names.map(() => new Int32Array(r.rowCount));
      let at = 0;
      for (let k = 0; k < r.chunkCount; k++) {
        const chunk = r.getChunk(k);
        const n = chunk.rowCount;
        for (let c = 0; c < names.length; c++) {
          const v = chunk.getColumnVector(c);
          const raw = v as unknown as IntVectorFields;
          if (raw.items instanceof Int32Array && raw.items.length === n && (raw.validity?.data === null || raw.validity?.data instanceof BigUint64Array)) {
            // The vector's own view of DuckDB's buffer (a public field at run time, private in the
            // typings): one copy per 2048 values instead of a call per value.
            const nulls = raw.validity.data ? firstNull(raw.validity.data, n) : -1;
            if (nulls >= 0) throw new Error(`column ${names[c]} has a null at row ${at + nulls}`);
            data[c].set(raw.items, at);
          } else {
            for (let i = 0; i < n; i++) {
              const x = v.getItem(i);
              if (x === null) throw new Error(`column ${names[c]} has a null at row ${at + i}`);
              data[c][at + i] = x as number;
            }
          }
        }
        at += n;
      }
      return { columns: names, rows: r.rowCount, data };
    },
    async stream(sql) {
      await prepare(sql);
      const c = await instance.connect();
      let done = false;
      const release = () => {
        if (done) return;
        done = true;
        c.closeSync();
      };
      try {
        const r = await c.stream(sql);
        return {
          columns: r.columnNames(),
          types: r.columnTypes().map((t) => t.toString()),
          async next() {
            if (done) return undefined;
            const chunk = await r.fetchChunk();
            if (!chunk || chunk.rowCount === 0) {
              release();
              return undefined;
            }
            return chunk.convertRows(JSDuckDBValueConverter).map((row) => row.map(toJs));
          },
          cancel() {
            if (done) return;
            c.interrupt();
            release();
          },
        };
      } catch (err) {
        release();
        throw err;
      }
    },
    async exec(sql) {
      await prepare(sql);
      await conn.run(sql);
    },
    async tables() {
      await refresh();
      const r = await conn.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1`);
      const names = r.getRowsJS().map((x) => String(x[0]));
      return [...new Set([...names, 'smartcar_drive_info'])].sort();
    },
    async describe(table) {
      await prepare(table);
      const r = await conn.runAndReadAll(`DESCRIBE ${table.replace(/[^A-Za-z0-9_]/g, '')}`);
      return r.getRowsJS().map((x) => ({ column: String(x[0]), type: String(x[1]) }));
    },
    async close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
  return catalog;
}
