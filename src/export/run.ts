/**
 * `smartcar export` (the Sqoop role): a catalog table, filtered, into a PostgreSQL table through
 * `COPY … FROM STDIN` (text format), streamed chunk by chunk from DuckDB, in one transaction:
 *
 *   replace-partition   BEGIN; DELETE FROM target WHERE key IN (the exported key values); COPY; COMMIT
 *   append              BEGIN; COPY; COMMIT
 *   upsert --key k,…    BEGIN; COPY into a temporary table; DELETE target rows whose keys it has; INSERT them; COMMIT
 *
 * Re-running replace-partition or upsert leaves the same table (idempotent); a failure or a kill
 * half-way rolls back and leaves the old rows. Checked before anything is written: the server is
 * reachable, the credentials work, and an existing target has exactly the source's columns
 * (each a UserError, exit 2). A missing target is created (PostgreSQL types from DuckDB's).
 *
 * COPY text format: one line per row, fields separated by TAB, NULL as \N, and `\` TAB LF CR in
 * values escaped as \\ \t \n \r.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { UserError } from '../core/index.ts';
import { openSqlEngine, type SqlChunk, type SqlColumn } from '../sql/index.ts';

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
    case 'TIMESTAMP WITH TIME ZONE': return 'timestamptz';
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

const BS = 0x5c, TAB = 0x09, LF = 0x0a, CR = 0x0d;

/** Rows of a chunk in COPY text format, into one buffer. */
export function copyText(chunk: SqlChunk, from = 0, to = chunk.rowCount): Buffer {
  let buf = Buffer.allocUnsafe(64 * 1024);
  let pos = 0;
  const ensure = (n: number) => {
    if (pos + n <= buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n));
    buf.copy(next, 0, 0, pos);
    buf = next;
  };
  const putBytes = (b: Uint8Array) => {
    ensure(b.length * 2);
    for (let i = 0; i < b.length; i++) {
      const x = b[i]!;
      if (x === BS || x === TAB || x === LF || x === CR) {
        buf[pos++] = BS;
        buf[pos++] = x === BS ? BS : x === TAB ? 0x74 : x === LF ? 0x6e : 0x72;
      } else buf[pos++] = x;
    }
  };
  const cols = chunk.columns;
  for (let r = from; r < to; r++) {
    for (let c = 0; c < cols.length; c++) {
      if (c) {
        ensure(1);
        buf[pos++] = TAB;
      }
      const col = cols[c]!;
      if (col.utf8) {
        const b = col.utf8(r);
        if (b === null) {
          ensure(2);
          buf[pos++] = BS;
          buf[pos++] = 0x4e;
        } else putBytes(b);
        continue;
      }
      const v = col.get(r);
      if (v === null || v === undefined) {
        ensure(2);
        buf[pos++] = BS;
        buf[pos++] = 0x4e;
      } else if (typeof v === 'boolean') {
        ensure(1);
        buf[pos++] = v ? 0x74 : 0x66;
      } else {
        const bytes = (v as { bytes?: Uint8Array }).bytes;
        const s = bytes instanceof Uint8Array ? '\\x' + Buffer.from(bytes).toString('hex') : typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : String(v);
        putBytes(Buffer.from(s, 'utf8'));
      }
    }
    ensure(1);
    buf[pos++] = LF;
  }
  return buf.subarray(0, pos);
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

  const engine = await openSqlEngine({ dataDir: o.dataDir });
  const client = new pg.Client({ connectionString: o.to, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // surfaced through the failing query
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

    try {
      await client.connect();
    } catch (e) {
      throw connectError(e, url);
    }
    const abort = () => client.end().catch(() => {});
    o.signal?.addEventListener('abort', abort);

    // The target's columns, if it exists.
    const [schema, name] = o.target.includes('.') ? o.target.split('.') : [null, o.target];
    const existing = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = coalesce($2, current_schema()) ORDER BY ordinal_position`,
      [name, schema],
    );
    const have = existing.rows.map((r) => r.column_name);
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
      if (o.mode === 'replace-partition') {
        // The partitions this export replaces: every key value the filtered source holds.
        const keys = o.key!;
        const ks = await session.prepare(`SELECT DISTINCT ${keys.map(qi).join(', ')} FROM (${select})`);
        const kr = await ks.run([]);
        const values: unknown[][] = [];
        for (let c = await kr.next(); c; c = await kr.next()) for (let r = 0; r < c.rowCount; r++) values.push(c.columns.map((col) => col.get(r)));
        ks.close();
        const BATCH = 500;
        for (let i = 0; i < values.length; i += BATCH) {
          const part = values.slice(i, i + BATCH);
          const params: unknown[] = [];
          const cond = part.map((v) => `(${v.map((x) => (params.push(x === null ? null : typeof x === 'bigint' ? x.toString() : String(x)), `$${params.length}`)).join(', ')})`).join(', ');
          const res = await client.query(`DELETE FROM ${target} WHERE (${keys.map((k) => `${qi(k)}::text`).join(', ')}) IN (${cond})`, params);
          deleted += res.rowCount ?? 0;
        }
      }
      const stream = client.query(copyFrom(`COPY ${copyInto} (${colList}) FROM STDIN`));
      const done = new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
      });
      // DuckDB writes the text of every non-binary column itself (C++), so each field is a VARCHAR copied as bytes.
      const textSelect = `SELECT ${cols.map((c) => (c.type.name === 'BLOB' ? qi(c.name) : `CAST(${qi(c.name)} AS VARCHAR) AS ${qi(c.name)}`)).join(', ')} FROM (${select})`;
      const textStmt = await session.prepare(textSelect);
      const result = await textStmt.run([]);
      for (let c = await result.next(); c; c = await result.next()) {
        if (o.signal?.aborted) throw new UserError('export interrupted; nothing was committed', 1);
        const ok = stream.write(copyText(c));
        rows += c.rowCount;
        o.onRows?.(rows);
        if (!ok) await new Promise<void>((resolve, reject) => {
          stream.once('drain', resolve);
          stream.once('error', reject);
        });
      }
      stream.end();
      await done;
      if (o.mode === 'upsert') {
        const keys = o.key!;
        const del = await client.query(`DELETE FROM ${target} t USING ${copyInto} s WHERE ${keys.map((k) => `t.${qi(k)} IS NOT DISTINCT FROM s.${qi(k)}`).join(' AND ')}`);
        deleted = del.rowCount ?? 0;
        await client.query(`INSERT INTO ${target} (${colList}) SELECT ${colList} FROM ${copyInto}`);
      }
      await client.query('COMMIT');
      textStmt.close();
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
    await client.end().catch(() => {});
    await engine.close();
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
