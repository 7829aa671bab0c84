/**
 * `smartcar export` (the Sqoop role): a catalog table, filtered, into a PostgreSQL table through
 * `COPY … FROM STDIN` (text format), streamed chunk by chunk from DuckDB, in one transaction:
 *
 *   replace-partition   BEGIN; DELETE FROM target WHERE key IN (the exported key values); COPY; COMMIT
 *                       (the key compared as the target column's type: an index on it serves the DELETE)
 *   append              BEGIN; COPY; COMMIT
 *   upsert --key k,…    BEGIN; COPY into a temporary table; DELETE target rows whose keys it has; INSERT them; COMMIT
 *
 * Re-running replace-partition or upsert leaves the same table (idempotent); a failure or a kill
 * half-way rolls back and leaves the old rows. Checked before anything is written: the server is
 * reachable, the credentials work, and an existing target has exactly the source's columns
 * (each a UserError, exit 2). A missing target is created (PostgreSQL types from DuckDB's).
 *
 * COPY text format: one line per row, fields separated by TAB, NULL as \N, and `\` TAB LF CR in
 * values escaped as \\ \t \n \r — produced by DuckDB itself (copyTextSelect, pumpCopyText): no value
 * passes through JavaScript.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type pg from 'pg';
import type { from as copyFromFn } from 'pg-copy-streams';
// The light face of core: the full one loads the logger, metrics and progress bars an export never uses.
import { UserError, dataPaths } from '../core/cli.ts';
import { openSqlEngine } from '../sql/cli.ts';
import type { SqlColumn, SqlSession } from '../sql/index.ts';

export type ExportMode = 'replace-partition' | 'append' | 'upsert';

export interface ExportOptions {
  dataDir: string;
  table: string;
  where?: string;
  to: string;
  target: string;
  mode: ExportMode;
  key?: string[];
  /** DDL for a missing target, instead of one derived from the source's types. */
  createSql?: string;
  /** Called with the running row count (progress). */
  onRows?: (rows: number) => void;
  signal?: AbortSignal;
}

export interface ExportResult {
  rows: number;
  deleted: number;
  created: boolean;
  target: string;
  ms: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;
const qTarget = (t: string) => t.split('.').map(qi).join('.');

export function pgTypeOf(c: SqlColumn): string {
  switch (c.type.name) {
    case 'BOOLEAN': return 'boolean';
    case 'TINYINT': case 'SMALLINT': case 'UTINYINT': return 'smallint';
    case 'INTEGER': case 'USMALLINT': return 'integer';
    case 'BIGINT': case 'UINTEGER': return 'bigint';
    case 'FLOAT': return 'real';
    case 'DOUBLE': return 'double precision';
    case 'DECIMAL': return `numeric(${c.type.width ?? 38},${c.type.scale ?? 0})`;
    case 'HUGEINT': case 'UBIGINT': return 'numeric';
    case 'DATE': return 'date';
    case 'TIMESTAMP': case 'TIMESTAMP_S': case 'TIMESTAMP_MS': case 'TIMESTAMP_NS': return 'timestamp';
    case 'TIMESTAMP_TZ': case 'TIMESTAMP WITH TIME ZONE': return 'timestamptz';
    case 'BLOB': return 'bytea';
    default: return 'varchar';
  }
}

/** A connection error as one line a person can act on; exit 2 (input: URL, credentials). */
function connectError(e: unknown, url: URL): UserError {
  const err = e as { code?: string; message?: string };
  const where = `${url.hostname}:${url.port || 5432}`;
  if (err.code === '28P01' || err.code === '28000') return new UserError(`PostgreSQL at ${where} refused the credentials of user "${decodeURIComponent(url.username) || 'default'}": ${err.message}`);
  if (err.code === '3D000') return new UserError(`PostgreSQL at ${where}: ${err.message}`);
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH' || err.code === 'ETIMEDOUT' || /timeout/i.test(err.message ?? '')) {
    // Transient for a workflow (retried there); for the CLI one line and exit 2 like any bad --to.
    return Object.assign(new UserError(`cannot reach PostgreSQL at ${where} (${err.code ?? err.message}); check --to`), { transient: true });
  }
  return new UserError(`cannot connect to PostgreSQL at ${where}: ${err.message ?? String(e)}`);
}

/** A DuckDB string literal. */
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** DuckDB types whose values are free text. */
const TEXT_TYPES = new Set(['VARCHAR', 'CHAR', 'BPCHAR', 'TEXT', 'STRING']);
/** DuckDB types whose text form never holds `\` TAB LF CR (a BLOB's is hex); anything else is escaped as text. */
const KNOWN_TYPES = new Set([
  'BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT',
  'FLOAT', 'DOUBLE', 'DECIMAL', 'DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS',
  'TIMESTAMP_TZ', 'TIME_TZ', 'TIME_NS', 'INTERVAL', 'UUID', 'BLOB', ...TEXT_TYPES,
]);

/**
 * A value's text, as PostgreSQL reads it back as the type pgTypeOf gives. A DECIMAL wider than 18
 * digits is stored as a 128-bit integer, whose cast to text costs DuckDB four times a 64-bit one's
 * (a third of a whole export's DuckDB time, for two such columns): values that fit 18 digits take
 * the DECIMAL(18, scale) cast, which writes the same text; wider ones the exact one.
 */
function textOf(c: SqlColumn): string {
  const x = qi(c.name);
  if (c.type.name === 'BLOB') return `'\\\\x' || lower(hex(${x}))`;
  const scale = c.type.scale ?? 0;
  if (c.type.name === 'DECIMAL' && (c.type.width ?? 38) > 18 && scale < 18) {
    const max = '9'.repeat(18 - scale) + (scale ? `.${'9'.repeat(scale)}` : '');
    return `CASE WHEN ${x} BETWEEN -${max} AND ${max} THEN CAST(CAST(${x} AS DECIMAL(18,${scale})) AS VARCHAR) ELSE CAST(${x} AS VARCHAR) END`;
  }
  return `CAST(${x} AS VARCHAR)`;
}

/**
 * The query whose rows are COPY text lines, one VARCHAR column (`line`) without the LF, computed by
 * DuckDB: the inner select gives each value's text (textOf; a BLOB as bytea's hex form, its backslash
 * already escaped: `\\x…`), the outer one escapes `\` TAB LF CR (the replace() calls run only for
 * values holding one of those bytes), writes NULL as \N and joins the fields with TAB. One column
 * rather than one per field: DuckDB's CSV writer then handles one value a row, not eight.
 */
export function copyTextSelect(cols: SqlColumn[], select: string): string {
  const inner = cols.map((c) => `${textOf(c)} AS ${qi(c.name)}`);
  const fields = cols.map((c) => {
    const x = qi(c.name);
    const special = [`'\\'`, 'chr(9)', 'chr(10)', 'chr(13)'].map((b) => `contains(${x}, ${b})`).join(' OR ');
    const escaped = `replace(replace(replace(replace(${x}, '\\', '\\\\'), chr(9), '\\t'), chr(10), '\\n'), chr(13), '\\r')`;
    // Only text can hold those bytes: numbers, dates, booleans… in DuckDB's text form never do.
    const text = TEXT_TYPES.has(c.type.name) || !KNOWN_TYPES.has(c.type.name);
    return `coalesce(${text ? `CASE WHEN ${special} THEN ${escaped} ELSE ${x} END` : x}, '\\N')`;
  });
  return `SELECT concat_ws(chr(9), ${fields.join(', ')}) AS line FROM (SELECT ${inner.join(', ')} FROM (${select}))`;
}

type CopyTarget = Writable & { rowCount?: number };

/** Rows of a COPY source, started before the COPY exists (see startCopyText). */
interface CopySource {
  /** Hands the COPY … FROM STDIN stream over; resolves with the rows copied once it finished. */
  into(stream: CopyTarget): Promise<number>;
  /** Stops DuckDB and cleans up, when the export fails before `into`. */
  cancel(): Promise<void>;
}

/** What is read from DuckDB before the COPY stream exists (or while PostgreSQL is still busy) at most. */
const AHEAD_BYTES = 32 << 20;
/** The size of a COPY message: the pipe's reads (64 KiB at most) are joined up to it. */
const MESSAGE_BYTES = 1 << 20;

/**
 * Streams the rows of `sql` (COPY text fields, see copyTextSelect) into a COPY … FROM STDIN stream.
 * DuckDB's own CSV writer (delimiter TAB, no quoting: the fields are escaped already) writes the lines
 * into a named pipe in the data directory, the one place the engine may write; we read the pipe and
 * join the reads (up to 64 KiB each) into COPY messages of 1 MiB, so DuckDB (its threads), this process
 * and PostgreSQL work at the same time and no JavaScript touches a value. It starts before the COPY does: up to AHEAD_BYTES
 * are read ahead while PostgreSQL still creates the table or deletes the day's old rows. The pipe is
 * unlinked as soon as data flows. Without mkfifo, DuckDB writes a temporary file, streamed once complete.
 *
 * The COPY is ended only after DuckDB reported success; on any failure it is destroyed (CopyFail),
 * so the caller's ROLLBACK keeps the old rows.
 */
function startCopyText(session: SqlSession, dataRoot: string, sql: string, o: Pick<ExportOptions, 'onRows' | 'signal'>): CopySource {
  let give!: (s: CopyTarget) => void;
  const target = new Promise<CopyTarget>((resolve) => (give = resolve));
  const cancelled = new AbortController();
  const stopped = new Promise<never>((_, reject) => cancelled.signal.addEventListener('abort', () => reject(new Error('export cancelled'))));
  stopped.catch(() => {});
  const done = pumpCopyText(session, dataRoot, sql, target, stopped, cancelled.signal, o);
  done.catch(() => {}); // reported through into()
  return {
    into(stream) {
      give(stream);
      return done;
    },
    async cancel() {
      cancelled.abort();
      await done.catch(() => {});
    },
  };
}

async function pumpCopyText(session: SqlSession, dataRoot: string, sql: string, target: Promise<CopyTarget>, stopped: Promise<never>, cancelled: AbortSignal, o: Pick<ExportOptions, 'onRows' | 'signal'>): Promise<number> {
  let stream: CopyTarget | undefined;
  let copyError: Error | undefined;
  let copied: Promise<void> | undefined;
  const attach = (st: CopyTarget) => {
    stream = st;
    copied = new Promise<void>((resolve, reject) => {
      st.on('finish', resolve);
      st.on('error', (e) => {
        copyError = e;
        reject(e);
      });
    });
    copied.catch(() => {}); // awaited below, or superseded by the error that stopped the pump
  };
  /** The COPY stream, waiting for it (or for a cancel) when it is not there yet. */
  const theStream = async (): Promise<CopyTarget> => {
    if (!stream) attach(await Promise.race([target, stopped]));
    return stream!;
  };
  const dir = fs.mkdtempSync(path.join(dataRoot, '.export-'));
  const file = path.join(dir, 'rows.copy');
  let piped = true;
  try {
    execFileSync('mkfifo', ['-m', '600', file], { stdio: 'ignore' });
  } catch {
    piped = false;
  }
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  let input: Readable | undefined;
  let writer: Promise<void> | undefined;
  try {
    let fd: number | undefined;
    // The read end first, non-blocking, so DuckDB's open of the write end never waits; a pipe socket
    // (polled by the event loop) sees no end of file before a writer came and went.
    if (piped) fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = await session.prepare(`COPY (${sql}) TO ${lit(file)} (FORMAT csv, DELIMITER E'\\t', QUOTE '', ESCAPE '', HEADER false, PRESERVE_ORDER false)`);
    // PRESERVE_ORDER false: rows go out as they are produced (with order kept, DuckDB held back the first
    // bytes by a second and more); a COPY into a table has no order to keep.
    writer = (async () => {
      try {
        const r = await st.run([]);
        while (await r.next());
      } finally {
        st.close();
      }
    })();
    if (piped) {
      input = new net.Socket({ fd, readable: true, writable: false });
      // DuckDB failing before it opened the pipe would leave the socket waiting: end it.
      writer.catch(() => input?.destroy());
    } else {
      await writer;
      input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
    }
    let rows = 0, first = true;
    /** What was read and not yet written to the COPY (before it exists: up to AHEAD_BYTES). */
    const ahead: Buffer[] = [];
    let aheadBytes = 0;
    let ready: CopyTarget | undefined;
    void target.then((st) => (ready = st));
    const drained = (out: CopyTarget) => new Promise<void>((resolve, reject) => {
      out.once('drain', resolve);
      copied!.catch(reject);
    });
    /** The COPY stream (waiting for it), with what was read ahead written into it. */
    const handOver = async (): Promise<CopyTarget> => {
      const out = await theStream();
      if (ahead.length) {
        // Reads joined into COPY messages of about MESSAGE_BYTES: per message, node and PostgreSQL each pay a
        // fixed cost (relaying 57 MB took node 0.17–0.21 CPU-s in 64 KiB messages, 0.07–0.10 s in 1 MiB ones).
        out.cork();
        for (let i = 0; i < ahead.length;) {
          let j = i, bytes = 0;
          while (j < ahead.length && bytes < MESSAGE_BYTES) bytes += ahead[j++]!.length;
          out.write(j === i + 1 ? ahead[i]! : Buffer.concat(ahead.slice(i, j), bytes));
          i = j;
        }
        out.uncork();
        ahead.length = 0;
        aheadBytes = 0;
      }
      return out;
    };
    try {
      for await (const buf of input as AsyncIterable<Buffer>) {
        if (copyError) throw copyError;
        if (cancelled.aborted) throw new Error('export cancelled');
        if (o.signal?.aborted) throw new UserError('export interrupted; nothing was committed', 1);
        if (first && piped) {
          first = false;
          cleanup(); // both ends are open: the name is no longer needed
        }
        if (o.onRows) {
          // Progress only: the count returned is PostgreSQL's own.
          for (let at = buf.indexOf(0x0a); at >= 0; at = buf.indexOf(0x0a, at + 1)) rows++;
          o.onRows(rows);
        }
        // The reads of the pipe are joined into messages of MESSAGE_BYTES. Before the COPY exists, up to
        // AHEAD_BYTES are kept; past that, handOver waits for it.
        ahead.push(buf);
        aheadBytes += buf.length;
        if (aheadBytes < (ready ? MESSAGE_BYTES : AHEAD_BYTES)) continue;
        const out = await handOver();
        if (out.writableLength > AHEAD_BYTES) await drained(out);
      }
    } catch (e) {
      input.destroy(); // DuckDB may be waiting for the pipe to drain
      const failed = await writer.then(() => undefined, (w: unknown) => w);
      // PostgreSQL's error, the interruption or the cancel is the cause (DuckDB then fails on the closed
      // pipe); otherwise the input ended because DuckDB failed, and its error is the one to report.
      throw failed !== undefined && !copyError && !(e instanceof UserError) && !cancelled.aborted ? failed : e;
    }
    await writer;
    if (copyError) throw copyError;
    const out = await handOver();
    out.end();
    await copied;
    return out.rowCount || rows;
  } catch (e) {
    if (stream && !stream.destroyed) stream.destroy(e instanceof Error ? e : new Error(String(e)));
    throw e;
  } finally {
    input?.destroy(); // closes the read end: a DuckDB still writing gets EPIPE and stops
    await writer?.catch(() => {});
    cleanup();
  }
}

/**
 * pg and pg-copy-streams, loaded when an export starts. pg asks at load whether it runs in Cloudflare
 * Workers: by `navigator.userAgent` where there is one (node ≥ 21), otherwise by making a fetch
 * Response, which on node 20 loads node's whole fetch implementation (25–30 ms CPU of an export's
 * start, measured). For the load only, a navigator like node 21's answers the question.
 */
async function loadPg(): Promise<[typeof import('pg').default, typeof copyFromFn]> {
  const g = globalThis as { navigator?: unknown };
  const shim = g.navigator === undefined;
  if (shim) g.navigator = { userAgent: `Node.js/${process.versions.node}` };
  try {
    const [pg, copy] = await Promise.all([import('pg'), import('pg-copy-streams')]);
    return [pg.default, copy.default.from];
  } finally {
    if (shim) delete g.navigator;
  }
}

/**
 * A connected client and the target's columns (none when it does not exist), or why it could not
 * connect (reported after the source's own errors). The columns are found as COPY and CREATE TABLE IF
 * NOT EXISTS find the table, through the search path; from the catalog itself (information_schema took
 * 15–25 ms), and while DuckDB still opens and plans.
 */
async function connectPg(to: string, target: string): Promise<{ client?: pg.Client; copyFrom?: typeof copyFromFn; have?: string[]; failed?: unknown }> {
  let client: pg.Client | undefined;
  let copyFrom: typeof copyFromFn;
  try {
    let Pg;
    [Pg, copyFrom] = await loadPg();
    client = new Pg.Client({ connectionString: to, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {}); // surfaced through the failing query
    await client.connect();
  } catch (e) {
    await client?.end().catch(() => {});
    return { failed: e };
  }
  try {
    const existing = await client.query<{ attname: string }>(
      `SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [qTarget(target)],
    );
    return { client, copyFrom, have: existing.rows.map((r) => r.attname) };
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
}

/** Every value of the key columns in the rows exported (the partitions replace-partition replaces). */
async function keyValues(session: SqlSession, select: string, keys: string[]): Promise<unknown[][]> {
  const ks = await session.prepare(`SELECT DISTINCT ${keys.map(qi).join(', ')} FROM (${select})`);
  try {
    const kr = await ks.run([]);
    const values: unknown[][] = [];
    for (let c = await kr.next(); c; c = await kr.next()) for (let r = 0; r < c.rowCount; r++) values.push(c.columns.map((col) => col.get(r)));
    return values;
  } finally {
    ks.close();
  }
}

export async function exportTable(o: ExportOptions): Promise<ExportResult> {
  const t0 = performance.now();
  if (!IDENT.test(o.table)) throw new UserError(`--table must be a catalog table name, got '${o.table}'`);
  if (!o.target.split('.').every((p) => IDENT.test(p)) || o.target.split('.').length > 2) throw new UserError(`--target must be [schema.]table, got '${o.target}'`);
  if ((o.mode === 'upsert' || o.mode === 'replace-partition') && !o.key?.length) throw new UserError(`--mode ${o.mode} needs --key COLUMN[,COLUMN…]`);
  let url: URL;
  try {
    url = new URL(o.to);
    if (!/^postgres(ql)?:$/.test(url.protocol)) throw new Error('scheme');
  } catch {
    throw new UserError(`--to must be a postgres://user:password@host:port/database URL, got '${o.to}'`);
  }

  // The start, where psql has nothing to do, overlapped: DuckDB is loaded first (the longest part:
  // 80 ms of its own), then pg is loaded and connects while DuckDB's instance opens on a thread of its own.
  // One DuckDB thread: writing the COPY text costs DuckDB less than parsing it costs PostgreSQL, whose
  // backend keeps the other core (on 2 cores, a second DuckDB thread only took CPU from it).
  let connecting: ReturnType<typeof connectPg> | undefined;
  const connect = () => {
    connecting ??= connectPg(o.to, o.target);
    connecting.catch(() => {}); // awaited below
  };
  let engine;
  try {
    engine = await openSqlEngine({ dataDir: o.dataDir, threads: 1, onOpening: connect });
  } catch (e) {
    await connecting?.then((c) => c.client?.end(), () => {}).catch(() => {});
    throw e;
  }
  connect();
  let copySession: SqlSession | undefined;
  let source: CopySource | undefined;
  let client: pg.Client | undefined;
  try {
    const session = await engine.session();
    const select = `SELECT * FROM ${o.table}${o.where ? ` WHERE ${o.where}` : ''}`;
    let stmt;
    try {
      stmt = await session.prepare(select);
    } catch (e) {
      throw new UserError(`cannot read ${o.table}${o.where ? ` where ${o.where}` : ''}: ${(e as Error).message.split('\n')[0]}`);
    }
    const cols = stmt.columns;
    for (const k of o.key ?? []) if (!cols.some((c) => c.name === k)) throw new UserError(`--key ${k} is not a column of ${o.table} (${cols.map((c) => c.name).join(', ')})`);

    // DuckDB starts producing the COPY text now (its own connection), and finds the partitions to
    // replace (another), while PostgreSQL is checked, the table created and the old rows deleted;
    // nothing reaches PostgreSQL before the COPY.
    const keys = o.mode === 'replace-partition' ? keyValues(session, select, o.key!) : undefined;
    keys?.catch(() => {}); // awaited below, unless PostgreSQL failed first
    copySession = await engine.session();
    source = startCopyText(copySession, dataPaths(o.dataDir).root, copyTextSelect(cols, select), o);
    const pgc = await connecting!;
    if (pgc.failed !== undefined) throw connectError(pgc.failed, url);
    client = pgc.client!;
    const copyFrom = pgc.copyFrom!;
    const abort = () => client?.end().catch(() => {});
    o.signal?.addEventListener('abort', abort);

    const have = pgc.have!;
    const want = cols.map((c) => c.name);
    if (have.length && (have.length !== want.length || want.some((c) => !have.includes(c)))) {
      throw new UserError(`target table ${o.target} has columns (${have.join(', ')}) but ${o.table} has (${want.join(', ')}); drop it or choose another --target`);
    }
    const target = qTarget(o.target);
    const colList = want.map(qi).join(', ');
    let deleted = 0;
    let rows = 0;
    await client.query('BEGIN');
    try {
      const created = have.length === 0;
      if (created) await client.query(o.createSql ?? `CREATE TABLE IF NOT EXISTS ${target} (${cols.map((c) => `${qi(c.name)} ${pgTypeOf(c)}`).join(', ')})`);
      let copyInto = target;
      if (o.mode === 'upsert') {
        copyInto = qi(`smartcar_export_${process.pid}_${Date.now()}`);
        await client.query(`CREATE TEMP TABLE ${copyInto} (LIKE ${target}) ON COMMIT DROP`);
      }
      if (keys) {
        const values = await keys;
        const keyCols = o.key!;
        // Compared as the target column's own type (the parameters are untyped text PostgreSQL converts),
        // so an index on the key serves the DELETE; a NULL key value matches the target's NULLs.
        const BATCH = 500;
        for (let i = 0; i < values.length; i += BATCH) {
          const params: unknown[] = [];
          const param = (x: unknown) => (params.push(typeof x === 'bigint' ? x.toString() : String(x)), `$${params.length}`);
          const tuples: string[] = [];
          const withNull: string[] = [];
          for (const v of values.slice(i, i + BATCH)) {
            if (v.some((x) => x === null || x === undefined)) withNull.push(`(${v.map((x, j) => (x === null || x === undefined ? `${qi(keyCols[j]!)} IS NULL` : `${qi(keyCols[j]!)} = ${param(x)}`)).join(' AND ')})`);
            else tuples.push(keyCols.length === 1 ? param(v[0]) : `(${v.map(param).join(', ')})`);
          }
          const lhs = keyCols.length === 1 ? qi(keyCols[0]!) : `(${keyCols.map(qi).join(', ')})`;
          const cond = [...(tuples.length ? [`${lhs} IN (${tuples.join(', ')})`] : []), ...withNull].join(' OR ');
          const res = await client.query(`DELETE FROM ${target} WHERE ${cond}`, params);
          deleted += res.rowCount ?? 0;
        }
      }
      rows = await source.into(client.query(copyFrom(`COPY ${copyInto} (${colList}) FROM STDIN`)));
      if (o.mode === 'upsert') {
        const keyCols = o.key!;
        const del = await client.query(`DELETE FROM ${target} t USING ${copyInto} s WHERE ${keyCols.map((k) => `t.${qi(k)} IS NOT DISTINCT FROM s.${qi(k)}`).join(' AND ')}`);
        deleted = del.rowCount ?? 0;
        await client.query(`INSERT INTO ${target} (${colList}) SELECT ${colList} FROM ${copyInto}`);
      }
      await client.query('COMMIT');
      stmt.close();
      session.close();
      return { rows, deleted, created, target: o.target, ms: performance.now() - t0 };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      if (e instanceof UserError) throw e;
      const err = e as { code?: string; message?: string };
      throw new UserError(`export into ${o.target} failed and was rolled back (old rows kept): ${err.message ?? String(e)}`, 1);
    } finally {
      o.signal?.removeEventListener('abort', abort);
    }
  } finally {
    // PostgreSQL's end of the connection and DuckDB's close at the same time.
    const ending = (async () => (client ?? (await connecting?.catch(() => undefined))?.client)?.end())().catch(() => {});
    await source?.cancel(); // a no-op once the COPY finished
    copySession?.close();
    await engine.close();
    await ending;
  }
}

/** The original's symptom table in the relational database: every column varchar. */
export const SYMPTOM_TARGET = 'smartcar_symptom_info';
export const SYMPTOM_DDL = (target: string) =>
  `CREATE TABLE IF NOT EXISTS ${qTarget(target)} (car_number varchar, speed_p_avg varchar, speed_p_symptom varchar, break_p_avg varchar, break_p_symptom varchar, steer_a_cnt varchar, steer_p_symptom varchar, biz_date varchar)`;

/** `smartcar export symptom --day D --to URL`: the day's symptom mart, replacing that day's rows. */
export async function exportSymptomDay(o: { dataDir: string; day: string; to: string; target?: string; onRows?: (n: number) => void; signal?: AbortSignal }): Promise<ExportResult> {
  if (!/^\d{8}$/.test(o.day)) throw new UserError(`--day must be yyyyMMdd, got '${o.day}'`);
  const target = o.target ?? SYMPTOM_TARGET;
  return exportTable({
    dataDir: o.dataDir,
    table: 'managed_smartcar_symptom_info',
    where: `biz_date = '${o.day}'`,
    to: o.to,
    target,
    mode: 'replace-partition',
    key: ['biz_date'],
    createSql: SYMPTOM_DDL(target),
    onRows: o.onRows,
    signal: o.signal,
  });
}
