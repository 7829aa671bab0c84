/**
 * The catalog for many sessions at once (the HiveServer2 role's engine): one DuckDB instance whose
 * views read the lake, and one DuckDB connection per session. Results are streamed chunk by chunk
 * (DuckDB's vectors of ~2048 rows), so a 10-million-row SELECT never sits in memory whole.
 *
 * Sandbox (a session may only read the lake):
 * - the instance is confined to the data directory, its configuration locked (sandbox.ts):
 *   `read_csv('/etc/passwd')`, `INSTALL`, `LOAD`, remote files and `SET` of any engine option fail
 *   inside DuckDB itself;
 * - `statementKind` lets the caller refuse everything but SELECT/EXPLAIN (no `COPY … TO`, `ATTACH`,
 *   `CREATE`, `INSERT`) before it runs — sessions are read-only.
 */
import { createRequire } from 'node:module';
import { DuckDBInstance, DuckDBTypeId, DuckDBVarCharVector, StatementType } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBPreparedStatement, DuckDBResult, DuckDBType, DuckDBVector } from '@duckdb/node-api';
import type Bindings from '@duckdb/node-bindings';
import { dataPaths } from '../core/cli.ts';
import { lakeViews } from './lake.ts';
import { confine } from './sandbox.ts';

// DuckDB's node API is bundled into the command line (scripts/build-cli.js: one file instead of its 180),
// so it is imported; its native bindings stay a package of their own, loaded with require().
const bindings = createRequire(import.meta.url)('@duckdb/node-bindings') as typeof Bindings;

/** A column's or parameter's type as DuckDB names it (`VARCHAR`, `DECIMAL`, `TIMESTAMP`…). */
export interface SqlType {
  name: string;
  /** DECIMAL only. */
  width?: number;
  scale?: number;
}

export interface SqlColumn {
  name: string;
  type: SqlType;
}

/**
 * One column of a chunk. `get` gives a value: string, number, bigint, boolean, null, or an object whose
 * `toString()` is DuckDB's text form (dates, decimals…; blobs carry `bytes`). For VARCHAR columns
 * `utf8` gives the bytes in DuckDB's own memory (no string made: the fast path for wire encoders).
 */
export interface SqlColumnReader {
  get(row: number): unknown;
  utf8?(row: number): Uint8Array | null;
}

/** One chunk of a streamed result (DuckDB's vector size, 2048 rows), column-major. */
export interface SqlChunk {
  rowCount: number;
  columns: SqlColumnReader[];
}

export interface SqlRows {
  /** The result's own column types (for a statement whose columns depended on its parameters, these are the true ones). */
  columns: SqlColumn[];
  /** The next chunk, or null at the end. */
  next(): Promise<SqlChunk | null>;
}

export type StatementKind = 'select' | 'explain' | 'write' | 'other';

export interface SqlStatement {
  kind: StatementKind;
  /** DuckDB's name for the statement type (`COPY`, `ATTACH`…), for messages. */
  typeName: string;
  params: SqlType[];
  /** False when a parameter's type is unknown until bound: `columns` is then a placeholder and the run's own columns are the true ones. */
  resolved: boolean;
  columns: SqlColumn[];
  /** Binds text (or null) parameters, each converted by DuckDB to its inferred type, and starts a streamed run. */
  run(params: (string | Uint8Array | null)[]): Promise<SqlRows>;
  close(): void;
}

export interface SqlSession {
  prepare(sql: string): Promise<SqlStatement>;
  /** Interrupts the statement running now (cancel, timeout). */
  interrupt(): void;
  close(): void;
}

export interface SqlEngine {
  session(): Promise<SqlSession>;
  /** Every relation a session sees, with its columns (for catalog answers). */
  relations(): Promise<{ name: string; columns: SqlColumn[] }[]>;
  close(): Promise<void>;
}

const KIND: Partial<Record<number, StatementKind>> = {
  [StatementType.SELECT]: 'select',
  [StatementType.EXPLAIN]: 'explain',
  [StatementType.INSERT]: 'write', [StatementType.UPDATE]: 'write', [StatementType.DELETE]: 'write', [StatementType.CREATE]: 'write',
  [StatementType.ALTER]: 'write', [StatementType.DROP]: 'write', [StatementType.COPY]: 'write', [StatementType.ATTACH]: 'write',
  [StatementType.DETACH]: 'write', [StatementType.EXPORT]: 'write', [StatementType.LOAD]: 'write', [StatementType.EXTENSION]: 'write',
  [StatementType.COPY_DATABASE]: 'write', [StatementType.CREATE_FUNC]: 'write', [StatementType.VACUUM]: 'write',
};

export function sqlType(t: DuckDBType): SqlType {
  const name = DuckDBTypeId[t.typeId] ?? 'VARCHAR';
  if (t.typeId === DuckDBTypeId.DECIMAL) {
    const d = t as unknown as { width: number; scale: number };
    return { name, width: d.width, scale: d.scale };
  }
  return { name };
}

/** How often the lake's layout is looked at again (new partitions, new marts), at most. */
const REFRESH_MS = 1000;

export interface SqlEngineOptions {
  dataDir: string;
  threads?: number;
  memoryLimit?: string;
  /**
   * Called once DuckDB is loaded and its instance opens on a thread of its own (20–40 ms): a caller
   * can do its own start meanwhile (the export loads pg and connects).
   */
  onOpening?: () => void;
}

export async function openSqlEngine(opts: SqlEngineOptions): Promise<SqlEngine> {
  const paths = dataPaths(opts.dataDir);
  const creating = DuckDBInstance.create(':memory:', {
    threads: String(opts.threads ?? 2),
    ...(opts.memoryLimit ? { memory_limit: opts.memoryLimit } : {}),
  });
  opts.onOpening?.();
  const instance = await creating;
  const admin = await instance.connect();
  await confine(admin, paths.root);

  let registered = '';
  let checkedAt = 0;
  let refreshing: Promise<void> | undefined;
  const refresh = async () => {
    if (Date.now() - checkedAt < REFRESH_MS) return;
    refreshing ??= (async () => {
      const views = lakeViews(paths.lake);
      const key = JSON.stringify(views);
      if (key !== registered) {
        // One call for all of them (a round trip through the thread pool each cost an export's start ~1 ms a view).
        if (Object.keys(views).length) await admin.run(Object.entries(views).map(([name, sql]) => `CREATE OR REPLACE VIEW ${name} AS ${sql}`).join(';\n'));
        registered = key;
      }
      checkedAt = Date.now();
    })().finally(() => (refreshing = undefined));
    await refreshing;
  };
  await refresh();

  const session = async (): Promise<SqlSession> => {
    const conn: DuckDBConnection = await instance.connect();
    return {
      async prepare(sql) {
        await refresh();
        const p: DuckDBPreparedStatement = await conn.prepare(sql);
        return statement(p);
      },
      interrupt: () => conn.interrupt(),
      close: () => conn.closeSync(),
    };
  };

  const relations = async () => {
    await refresh();
    const r = await admin.runAndReadAll(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`,
    );
    const out = new Map<string, SqlColumn[]>();
    for (const [t, c, ty] of r.getRowsJS() as [string, string, string][]) {
      const m = /^DECIMAL\((\d+),(\d+)\)$/.exec(ty);
      const type: SqlType = m ? { name: 'DECIMAL', width: Number(m[1]), scale: Number(m[2]) } : { name: ty.replace(/\(.*$/, '') };
      if (!out.has(t)) out.set(t, []);
      out.get(t)!.push({ name: c, type });
    }
    return [...out].map(([name, columns]) => ({ name, columns }));
  };

  return {
    session,
    relations,
    async close() {
      admin.closeSync();
      instance.closeSync();
    },
  };
}

function statement(p: DuckDBPreparedStatement): SqlStatement {
  const params: SqlType[] = [];
  for (let i = 1; i <= p.parameterCount; i++) {
    // A parameter DuckDB could not type (`SELECT $1`) has none until bound: text, as PostgreSQL's `unknown`.
    let t: SqlType = { name: 'ANY' };
    try {
      t = sqlType(p.parameterType(i));
    } catch {
      /* untyped */
    }
    params.push(t);
  }
  const columns: SqlColumn[] = [];
  for (let i = 0; i < p.columnCount; i++) {
    // A column typed by a parameter (`SELECT $1`) is known only once bound: text until then.
    let type: SqlType = { name: 'VARCHAR' };
    try {
      type = sqlType(p.columnType(i));
    } catch {
      /* untyped until bound */
    }
    columns.push({ name: p.columnName(i), type });
  }
  const st = p.statementType;
  return {
    kind: KIND[st] ?? 'other',
    resolved: !params.some((t) => t.name === 'ANY'),
    typeName: StatementType[st] ?? String(st),
    params,
    columns,
    async run(values) {
      p.clearBindings();
      values.forEach((v, i) => {
        if (v === null) p.bindNull(i + 1);
        else if (v instanceof Uint8Array) p.bindBlob(i + 1, v);
        // Text goes in as VARCHAR; DuckDB casts it to the parameter's type (and says so when it can't).
        else p.bindVarchar(i + 1, v);
      });
      const result: DuckDBResult = await p.stream();
      const actual = result.columnTypes().map((t, i) => ({ name: result.columnName(i), type: sqlType(t) }));
      return rows(result, actual);
    },
    close: () => p.destroySync(),
  };
}

/**
 * VARCHAR vectors are read raw: 16-byte string_t entries, `uint32 length` then the bytes inline when
 * ≤ 12, else a pointer (read through the bindings). This relies on the layout of @duckdb/node-api's
 * DuckDBVarCharVector (pinned version); without those fields it falls back to `getItem`.
 */
function reader(v: DuckDBVector): SqlColumnReader {
  const raw = v as unknown as { dataView?: DataView; validity?: { itemValid(i: number): boolean } };
  const get = (r: number) => v.getItem(r) as unknown;
  if (!(v instanceof DuckDBVarCharVector) || !raw.dataView || !raw.validity) return { get };
  const dv = raw.dataView;
  const validity = raw.validity;
  return {
    get,
    utf8(r) {
      if (!validity.itemValid(r)) return null;
      const at = r * 16;
      const len = dv.getUint32(at, true);
      if (len <= 12) return new Uint8Array(dv.buffer, dv.byteOffset + at + 4, len);
      return bindings.get_data_from_pointer(dv.buffer as ArrayBuffer, dv.byteOffset + at + 8, len);
    },
  };
}

function rows(result: DuckDBResult, columns: SqlColumn[]): SqlRows {
  let done = false;
  return {
    columns,
    async next() {
      if (done) return null;
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) {
        done = true;
        return null;
      }
      const cols: SqlColumnReader[] = [];
      for (let c = 0; c < chunk.columnCount; c++) cols.push(reader(chunk.getColumnVector(c)));
      return { rowCount: chunk.rowCount, columns: cols };
    },
  };
}
