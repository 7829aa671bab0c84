/**
 * One client connection, from start-up to Terminate (PostgreSQL protocol 3.0, "Message Flow"):
 *
 *   start-up   [SSLRequest → 'N'] StartupMessage → AuthenticationSASL … SASLFinal, AuthenticationOk,
 *              ParameterStatus*, BackendKeyData, ReadyForQuery
 *   simple     Query → per statement (RowDescription DataRow* | ∅) CommandComplete | EmptyQueryResponse;
 *              ErrorResponse stops the rest → ReadyForQuery
 *   extended   Parse → ParseComplete, Bind → BindComplete, Describe → ParameterDescription? RowDescription | NoData,
 *              Execute → DataRow* (CommandComplete | PortalSuspended), Close → CloseComplete, Flush, Sync → ReadyForQuery.
 *              After an error every message is skipped until Sync.
 *
 * Frames are handled one at a time, in order. A protocol violation (bad frame, unknown type, oversized
 * message) ends this session with a FATAL ErrorResponse; the server carries on.
 */
import crypto from 'node:crypto';
import type { Socket } from 'node:net';
import { readOnlyKind, type SqlChunk, type SqlEngine, type SqlRows, type SqlSession, type SqlStatement } from '../sql/index.ts';
import { authenticationOk, authenticationSasl, authenticationSaslContinue, authenticationSaslFinal } from './backend/authentication.ts';
import { backendKeyData } from './backend/backend-key-data.ts';
import { bare, BIND_COMPLETE, CLOSE_COMPLETE, commandComplete, EMPTY_QUERY, NO_DATA, PARSE_COMPLETE, PORTAL_SUSPENDED } from './backend/command-complete.ts';
import { dataRows } from './backend/data-row.ts';
import { errorResponse, type PgError } from './backend/error-response.ts';
import { parameterDescription } from './backend/parameter-description.ts';
import { parameterStatus } from './backend/parameter-status.ts';
import { readyForQuery, type TxStatus } from './backend/ready-for-query.ts';
import { rowDescription, type Field } from './backend/row-description.ts';
import { catalogQuery } from './catalog.ts';
import { pgErrorOf } from './errors.ts';
import { Framer, type Frame } from './frames.ts';
import { formatAt, parseBind } from './frontend/bind.ts';
import { parseTarget } from './frontend/describe.ts';
import { parseExecute } from './frontend/execute.ts';
import { parseParse } from './frontend/parse.ts';
import { parseSaslInitial, parseSaslResponse } from './frontend/password.ts';
import { parseQuery } from './frontend/query.ts';
import { parseStartup } from './frontend/startup.ts';
import { FLUSH_AT, Out } from './out.ts';
import { ProtocolError } from './reader.ts';
import { SCRAM, ScramError, ScramExchange, type Verifier } from '../core/index.ts';
import { isBlank, ownStatement, split, type Own } from './statements.ts';
import { binaryOk, OID, paramFromBinary, pgType } from './types.ts';

export interface SessionContext {
  engine: SqlEngine;
  user: string;
  verifier: Verifier;
  statementTimeoutMs: number;
  maxMessage: number;
  serverVersion: string;
  /** Registers this session for CancelRequest; returns its key. */
  register(s: Session): { pid: number; secret: number };
  unregister(s: Session): void;
  cancel(pid: number, secret: number): void;
  /** Whether another session may start (the concurrent-session limit). */
  admit(): boolean;
  log(event: string, fields?: Record<string, unknown>): void;
}

interface Prepared {
  sql: string;
  own?: Own;
  duck?: SqlStatement;
  /** Parameter OIDs: the client's where it gave one, else what DuckDB inferred. */
  paramOids: number[];
  fields: Field[];
  empty: boolean;
}

interface Portal {
  stmt: Prepared;
  params: (string | Uint8Array | null)[];
  fields: Field[];
  resultFormats: number[];
  rows?: SqlRows;
  chunk?: SqlChunk;
  offset: number;
  sent: number;
  done: boolean;
  /** DECLAREd cursors read on a DuckDB connection of their own. */
  conn?: SqlSession;
  /** DECLARE'd portals outlive Sync; protocol portals do not outside a transaction block. */
  cursor: boolean;
}

class QueryError extends Error {
  constructor(readonly pg: PgError) {
    super(pg.message);
  }
}

const CANCELED: PgError = { code: '57014', message: 'canceling statement due to user request' };
const TIMED_OUT: PgError = { code: '57014', message: 'canceling statement due to statement timeout' };

export class Session {
  private readonly out: Out;
  private readonly framer: Framer;
  private state: 'startup' | 'sasl-initial' | 'sasl-final' | 'ready' | 'closed' = 'startup';
  private scram?: ScramExchange;
  private params: Record<string, string> = {};
  private settings: Record<string, string> = {};
  private sql?: SqlSession;
  private readonly statements = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private tx: TxStatus = 'I';
  private skipToSync = false;
  private busy = false;
  private running?: { interrupt(): void };
  private stopReason?: PgError;
  key = { pid: 0, secret: 0 };
  private timeoutMs: number;

  constructor(private readonly socket: Socket, private readonly ctx: SessionContext) {
    this.out = new Out(socket);
    this.timeoutMs = ctx.statementTimeoutMs;
    this.framer = new Framer(ctx.maxMessage);
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private onData(d: Buffer): void {
    if (this.closed()) return;
    try {
      this.framer.push(d);
    } catch (e) {
      void this.fatal(e);
      return;
    }
    void this.pump();
  }

  private closed(): boolean {
    return this.state === 'closed';
  }

  /** Handles buffered frames in order, one at a time (frames are cut lazily: start-up decides typed framing). */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        if (this.closed()) return;
        const f = this.framer.next();
        if (!f) return;
        await this.handle(f);
      }
    } catch (e) {
      await this.fatal(e);
    } finally {
      this.busy = false;
    }
  }

  private async fatal(e: unknown): Promise<void> {
    if (this.state === 'closed') return;
    const pg = e instanceof ProtocolError ? { code: e.code, message: e.message } : pgErrorOf(e);
    this.ctx.log('session ended', { reason: pg.message, code: pg.code });
    errorResponse(this.out, { ...pg, severity: 'FATAL' });
    await this.out.flush().catch(() => {});
    this.socket.end();
    this.close();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.running?.interrupt();
    for (const p of this.portals.values()) p.conn?.close();
    this.portals.clear();
    for (const s of this.statements.values()) s.duck?.close();
    this.statements.clear();
    // The DuckDB connection may be mid-query: interrupt, then close once that query has let go.
    const sql = this.sql;
    this.sql = undefined;
    if (sql) setImmediate(() => sql.close());
    this.ctx.unregister(this);
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** CancelRequest for this session (from another connection). */
  cancel(reason: PgError = CANCELED): void {
    if (!this.running) return;
    this.stopReason = reason;
    this.running.interrupt();
  }

  private async handle(f: Frame): Promise<void> {
    if (this.state === 'startup') return this.startup(f.body);
    if (this.state === 'sasl-initial' || this.state === 'sasl-final') return this.authenticate(f);
    if (this.skipToSync && f.type !== 'S' && f.type !== 'X') return;
    try {
      switch (f.type) {
        case 'Q': return await this.simpleQuery(parseQuery(f.body));
        case 'P': return await this.parse(f.body);
        case 'B': return this.bind(f.body);
        case 'D': return await this.describe(f.body);
        case 'E': return await this.execute(f.body);
        case 'C': return this.closeTarget(f.body);
        case 'H': return await this.out.flush();
        case 'S': return await this.sync();
        case 'X':
          this.socket.end();
          this.close();
          return;
        case 'd': case 'c': case 'f':
          throw new QueryError({ code: '08P01', message: 'COPY is not supported by this server (sessions are read-only)' });
        default:
          throw new ProtocolError(`invalid frontend message type ${f.type.charCodeAt(0)} (${JSON.stringify(f.type)})`);
      }
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      const pg = e instanceof QueryError ? e.pg : pgErrorOf(e);
      errorResponse(this.out, pg);
      if (this.tx === 'T') this.tx = 'E';
      if (f.type === 'Q') {
        readyForQuery(this.out, this.tx);
        await this.out.flush();
      } else {
        this.skipToSync = true;
      }
    }
  }

  // ---- start-up and authentication ----

  private async startup(body: Buffer): Promise<void> {
    const m = parseStartup(body);
    if (m.kind === 'ssl' || m.kind === 'gssenc') {
      this.out.ensure(1);
      this.out.buf[this.out.pos++] = 0x4e; // 'N': no TLS here; the client continues in plain text (or gives up)
      await this.out.flush();
      return;
    }
    if (m.kind === 'cancel') {
      this.ctx.cancel(m.pid, m.secret);
      this.socket.end();
      this.close();
      return;
    }
    this.params = m.params;
    if (!m.params.user) throw new ProtocolError('no PostgreSQL user name specified in startup packet', '28000');
    if (!this.ctx.admit()) throw new ProtocolError('sorry, too many clients already', '53300');
    this.framer.typed = true;
    this.scram = new ScramExchange(this.ctx.verifier);
    authenticationSasl(this.out, [SCRAM]);
    await this.out.flush();
    this.state = 'sasl-initial';
  }

  private async authenticate(f: Frame): Promise<void> {
    if (f.type !== 'p') throw new ProtocolError(`expected SASL response, got message type ${JSON.stringify(f.type)}`);
    try {
      if (this.state === 'sasl-initial') {
        const { mechanism, data } = parseSaslInitial(f.body);
        if (mechanism !== SCRAM) throw new ScramError(`SASL mechanism ${mechanism} is not supported; use ${SCRAM}`);
        authenticationSaslContinue(this.out, this.scram!.first(data));
        await this.out.flush();
        this.state = 'sasl-final';
        return;
      }
      const final = this.scram!.final(parseSaslResponse(f.body));
      if (this.params.user !== this.ctx.user) throw new ScramError('password authentication failed');
      authenticationSaslFinal(this.out, final);
    } catch (e) {
      if (!(e instanceof ScramError)) throw e;
      const user = this.params.user ?? '';
      this.ctx.log('authentication failed', { user });
      throw new ProtocolError(`password authentication failed for user "${user}"`, '28P01');
    }
    this.sql = await this.ctx.engine.session();
    this.key = this.ctx.register(this);
    authenticationOk(this.out);
    const status: Record<string, string> = {
      server_version: this.ctx.serverVersion,
      server_encoding: 'UTF8',
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
      IntervalStyle: 'postgres',
      TimeZone: 'UTC',
      integer_datetimes: 'on',
      standard_conforming_strings: 'on',
      is_superuser: 'off',
      session_authorization: this.params.user!,
      application_name: this.params.application_name ?? '',
      default_transaction_read_only: 'on',
      in_hot_standby: 'off',
    };
    this.settings = { ...Object.fromEntries(Object.entries(status).map(([k, v]) => [k.toLowerCase(), v])), transaction_isolation: 'read committed', transaction_read_only: 'on', statement_timeout: `${this.ctx.statementTimeoutMs}ms`, search_path: 'main' };
    for (const [k, v] of Object.entries(status)) parameterStatus(this.out, k, v);
    backendKeyData(this.out, this.key.pid, this.key.secret);
    readyForQuery(this.out, 'I');
    await this.out.flush();
    this.state = 'ready';
    this.ctx.log('session started', { user: this.params.user, application: this.params.application_name, database: this.params.database });
  }

  // ---- statements ----

  /** What a statement text becomes: one of ours, a catalog answer, or a DuckDB statement. */
  private async prepare(sql: string, paramOids: number[] = []): Promise<Prepared> {
    if (isBlank(sql)) return { sql, paramOids, fields: [], empty: true };
    const own = ownStatement(sql);
    if (own) {
      const fields: Field[] = own.kind === 'show' ? [{ name: own.name, oid: OID.text, typlen: -1, typmod: -1, format: 0 }] : [];
      return { sql, own, paramOids, fields, empty: false };
    }
    const text = catalogQuery(sql, this.ctx.user) ?? sql;
    if (process.env.SMARTCAR_PGWIRE_TRACE) process.stderr.write(`[pgwire] ${sql}\n`);
    const duck = await this.sql!.prepare(text);
    if (!readOnlyKind(duck.kind)) {
      duck.close();
      throw new QueryError({ code: '25006', message: `cannot execute ${duck.typeName} in a read-only session`, hint: 'Sessions of the SQL server only read the lake; write with the smartcar CLI.' });
    }
    const oids = duck.params.map((t, i) => paramOids[i] || (t.name === 'INVALID' || t.name === 'ANY' || t.name === 'SQLNULL' ? OID.text : pgType(t).oid));
    const fields = duck.columns.map((c) => ({ name: c.name, ...pgType(c.type), format: 0 as 0 | 1 }));
    return { sql, duck, paramOids: oids, fields, empty: false };
  }

  private async simpleQuery(sql: string): Promise<void> {
    const parts = split(sql);
    if (parts.length === 0) {
      bare(this.out, EMPTY_QUERY);
    }
    for (const part of parts) {
      if (this.tx === 'E') {
        const own = ownStatement(part);
        if (!(own?.kind === 'tx' && (own.tag === 'ROLLBACK' || own.tag === 'COMMIT'))) {
          throw new QueryError({ code: '25P02', message: 'current transaction is aborted, commands ignored until end of transaction block' });
        }
      }
      const stmt = await this.prepare(part);
      try {
        const portal = this.portal(stmt, [], []);
        await this.run(portal, 0, true);
        portal.conn?.close();
      } finally {
        stmt.duck?.close();
      }
    }
    this.closePortals(false);
    readyForQuery(this.out, this.tx);
    await this.out.flush();
  }

  private portal(stmt: Prepared, params: (string | Uint8Array | null)[], resultFormats: number[]): Portal {
    return { stmt, params, fields: withFormats(stmt.fields, resultFormats), resultFormats, offset: 0, sent: 0, done: false, cursor: false };
  }

  /** Runs a portal: our own statement, or up to `maxRows` rows (0 = all) of a DuckDB one. */
  private async run(p: Portal, maxRows: number, describe: boolean): Promise<void> {
    const s = p.stmt;
    if (s.empty) return bare(this.out, EMPTY_QUERY);
    if (s.own) return this.runOwn(s.own, describe);
    await this.stream(p, maxRows, 'SELECT', describe);
  }

  private async stream(p: Portal, maxRows: number, tag = 'SELECT', describe = false): Promise<void> {
    if (p.done) return commandComplete(this.out, `${tag} 0`);
    const sqlSession = p.conn ?? this.sql!;
    let timedOut = false;
    const timer = this.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), this.cancel(TIMED_OUT)), this.timeoutMs) : undefined;
    this.running = sqlSession;
    this.stopReason = undefined;
    let sent = 0;
    try {
      await this.start(p);
      if (describe) {
        // Simple protocol: describe what the run really produced.
        p.fields = withFormats(p.rows!.columns.map((c) => ({ name: c.name, ...pgType(c.type), format: 0 })), p.resultFormats);
        rowDescription(this.out, p.fields);
      }
      for (;;) {
        if (this.stopReason) throw new QueryError(this.stopReason);
        if (this.state === 'closed') return;
        if (!p.chunk || p.offset >= p.chunk.rowCount) {
          const c = await p.rows!.next();
          if (!c) break;
          p.chunk = c;
          p.offset = 0;
        }
        const left = maxRows > 0 ? maxRows - sent : Infinity;
        const to = Math.min(p.chunk.rowCount, p.offset + left);
        dataRows(this.out, p.fields, p.chunk.columns, p.offset, to);
        sent += to - p.offset;
        p.offset = to;
        if (this.out.pending >= FLUSH_AT) await this.out.flush();
        if (maxRows > 0 && sent >= maxRows) {
          p.sent += sent;
          return bare(this.out, PORTAL_SUSPENDED);
        }
      }
    } catch (e) {
      p.done = true;
      if (e instanceof QueryError) throw e;
      if (this.stopReason || timedOut) throw new QueryError(this.stopReason ?? TIMED_OUT);
      throw e;
    } finally {
      clearTimeout(timer);
      this.running = undefined;
    }
    p.done = true;
    p.sent += sent;
    p.chunk = undefined;
    commandComplete(this.out, `${tag} ${tag === 'SELECT' ? p.sent : sent}`);
  }

  /** A portal's columns; for a statement typed only by its parameters, from the run itself (started here, as PostgreSQL plans at Bind). */
  private async portalFields(p: Portal): Promise<Field[]> {
    if (!p.stmt.duck || p.stmt.duck.resolved) return p.fields;
    await this.start(p);
    return p.fields;
  }

  private async start(p: Portal): Promise<void> {
    if (p.rows) return;
    try {
      p.rows = await p.stmt.duck!.run(p.params);
      if (!p.stmt.duck!.resolved) p.fields = withFormats(p.rows.columns.map((c) => ({ name: c.name, ...pgType(c.type), format: 0 })), p.resultFormats);
    } catch (e) {
      p.done = true;
      if (this.stopReason) throw new QueryError(this.stopReason);
      throw e;
    }
  }

  private async runOwn(own: Own, describe: boolean): Promise<void> {
    switch (own.kind) {
      case 'tx':
        if (own.tag === 'BEGIN') this.tx = 'T';
        else if (own.tag === 'COMMIT' || own.tag === 'ROLLBACK') {
          this.tx = 'I';
          this.closePortals(true);
        }
        return commandComplete(this.out, own.tag === 'COMMIT' && this.tx === 'E' ? 'ROLLBACK' : own.tag);
      case 'set':
        if (own.tag === 'RESET' && !own.name) this.settings = { ...this.settings };
        else if (own.name && own.value !== undefined) {
          this.settings[own.name] = own.value;
          if (own.name === 'statement_timeout') this.applyTimeout(own.value);
        }
        return commandComplete(this.out, own.tag);
      case 'show': {
        const v = this.settings[own.name] ?? this.settings[own.name.toLowerCase()];
        if (v === undefined) throw new QueryError({ code: '42704', message: `unrecognized configuration parameter "${own.name}"` });
        const field: Field = { name: own.name, oid: OID.text, typlen: -1, typmod: -1, format: 0 };
        if (describe) rowDescription(this.out, [field]);
        dataRows(this.out, [field], [{ get: () => v }], 0, 1);
        return commandComplete(this.out, 'SHOW');
      }
      case 'declare': {
        if (this.portals.has(own.name)) throw new QueryError({ code: '42P03', message: `cursor "${own.name}" already exists` });
        const conn = await this.ctx.engine.session();
        try {
          const duck = await conn.prepare(catalogQuery(own.query, this.ctx.user) ?? own.query);
          if (duck.kind !== 'select') {
            duck.close();
            throw new QueryError({ code: '25006', message: `cannot execute ${duck.typeName} in a read-only session` });
          }
          const stmt: Prepared = { sql: own.query, duck, paramOids: [], fields: duck.columns.map((c) => ({ name: c.name, ...pgType(c.type), format: 0 as const })), empty: false };
          const p = this.portal(stmt, [], own.binary ? [1] : []);
          p.conn = conn;
          p.cursor = true;
          this.portals.set(own.name, p);
        } catch (e) {
          conn.close();
          throw e;
        }
        return commandComplete(this.out, 'DECLARE CURSOR');
      }
      case 'fetch': {
        const p = this.portals.get(own.name);
        if (!p) throw new QueryError({ code: '34000', message: `cursor "${own.name}" does not exist` });
        if (describe && !own.move) rowDescription(this.out, p.fields);
        const n = own.count === 'all' ? 0 : own.count;
        if (n === 0 && own.count !== 'all') return commandComplete(this.out, `${own.move ? 'MOVE' : 'FETCH'} 0`);
        return this.fetch(p, n, own.move);
      }
      case 'close':
        if (own.name === null) this.closePortals(true);
        else {
          const p = this.portals.get(own.name);
          if (!p) throw new QueryError({ code: '34000', message: `cursor "${own.name}" does not exist` });
          p.conn?.close();
          this.portals.delete(own.name);
        }
        return commandComplete(this.out, 'CLOSE CURSOR');
      case 'discard':
        if (own.tag !== 'DEALLOCATE') {
          for (const s of this.statements.values()) s.duck?.close();
          this.statements.clear();
          if (own.tag === 'DISCARD ALL') this.closePortals(true);
        } else if (own.name) {
          this.statements.get(own.name)?.duck?.close();
          this.statements.delete(own.name);
        }
        return commandComplete(this.out, own.tag === 'DEALLOCATE ALL' ? 'DEALLOCATE ALL' : own.tag);
    }
  }

  /** FETCH n: rows of a cursor, ending with "FETCH k" (no PortalSuspended: the cursor stays open). */
  private async fetch(p: Portal, n: number, move: boolean): Promise<void> {
    if (move) throw new QueryError({ code: '0A000', message: 'MOVE is not supported; FETCH the rows instead' });
    const before = p.sent;
    const wasDone = p.done;
    await this.stream(p, n, 'FETCH');
    if (!wasDone && this.lastIsSuspended()) {
      this.out.pos -= 5; // FETCH ends with CommandComplete, not PortalSuspended
      commandComplete(this.out, `FETCH ${p.sent - before}`);
    }
  }

  private lastIsSuspended(): boolean {
    const b = this.out.buf;
    const at = this.out.pos - 5;
    return at >= 0 && b[at] === 0x73 && b.readInt32BE(at + 1) === 4;
  }

  private applyTimeout(v: string): void {
    const m = /^(\d+)\s*(ms|s|min)?$/.exec(v.trim());
    if (!m) return;
    const ms = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'min' ? 60000 : 1);
    // A session may shorten its timeout, never lift the server's (0 = the server's).
    this.timeoutMs = ms > 0 && ms < this.ctx.statementTimeoutMs ? ms : this.ctx.statementTimeoutMs;
  }

  // ---- extended protocol ----

  private async parse(body: Buffer): Promise<void> {
    const m = parseParse(body);
    if (m.name !== '' && this.statements.has(m.name)) throw new QueryError({ code: '42P05', message: `prepared statement "${m.name}" already exists` });
    if (split(m.query).length > 1) throw new QueryError({ code: '42601', message: 'cannot insert multiple commands into a prepared statement' });
    if (this.tx === 'E') {
      const own = ownStatement(m.query);
      if (!(own?.kind === 'tx' && (own.tag === 'ROLLBACK' || own.tag === 'COMMIT'))) {
        throw new QueryError({ code: '25P02', message: 'current transaction is aborted, commands ignored until end of transaction block' });
      }
    }
    const old = this.statements.get(m.name);
    const stmt = await this.prepare(m.query, m.paramOids);
    if (old) old.duck?.close();
    this.statements.set(m.name, stmt);
    bare(this.out, PARSE_COMPLETE);
  }

  private bind(body: Buffer): void {
    const m = parseBind(body);
    const stmt = this.statements.get(m.statement);
    if (!stmt) throw new QueryError({ code: '26000', message: `prepared statement "${m.statement}" does not exist` });
    if (m.params.length !== stmt.paramOids.length) {
      throw new QueryError({ code: '08P01', message: `bind message supplies ${m.params.length} parameters, but prepared statement "${m.statement}" requires ${stmt.paramOids.length}` });
    }
    if (m.portal !== '' && this.portals.has(m.portal)) throw new QueryError({ code: '42P03', message: `portal "${m.portal}" already exists` });
    const params = m.params.map((b, i) => {
      if (b === null) return null;
      if (formatAt(m.paramFormats, i) === 0) return b.toString('utf8');
      try {
        return paramFromBinary(b, stmt.paramOids[i]!);
      } catch {
        throw new QueryError({ code: '22P03', message: `incorrect binary data format in bind parameter ${i + 1}` });
      }
    });
    const old = this.portals.get(m.portal);
    old?.conn?.close();
    this.portals.set(m.portal, this.portal(stmt, params, m.resultFormats));
    bare(this.out, BIND_COMPLETE);
  }

  private async describe(body: Buffer): Promise<void> {
    const m = parseTarget(body, 'Describe');
    if (m.target === 'S') {
      const s = this.statements.get(m.name);
      if (!s) throw new QueryError({ code: '26000', message: `prepared statement "${m.name}" does not exist` });
      parameterDescription(this.out, s.paramOids);
      if (s.fields.length) rowDescription(this.out, s.fields);
      else bare(this.out, NO_DATA);
      return;
    }
    const p = this.portals.get(m.name);
    if (!p) throw new QueryError({ code: '34000', message: `portal "${m.name}" does not exist` });
    const own = p.stmt.own;
    // FETCH describes the cursor's rows.
    const fields = own?.kind === 'fetch' ? (this.portals.get(own.name)?.fields ?? []) : await this.portalFields(p);
    if (fields.length) rowDescription(this.out, fields);
    else bare(this.out, NO_DATA);
  }

  private async execute(body: Buffer): Promise<void> {
    const m = parseExecute(body);
    const p = this.portals.get(m.portal);
    if (!p) throw new QueryError({ code: '34000', message: `portal "${m.portal}" does not exist` });
    await this.run(p, m.maxRows, false);
  }

  private closeTarget(body: Buffer): void {
    const m = parseTarget(body, 'Close');
    if (m.target === 'S') {
      this.statements.get(m.name)?.duck?.close();
      this.statements.delete(m.name);
    } else {
      this.portals.get(m.name)?.conn?.close();
      this.portals.delete(m.name);
    }
    bare(this.out, CLOSE_COMPLETE);
  }

  private async sync(): Promise<void> {
    this.skipToSync = false;
    if (this.tx === 'I') this.closePortals(false);
    readyForQuery(this.out, this.tx);
    await this.out.flush();
  }

  /** Protocol portals end with their implicit transaction; cursors with the block (or CLOSE) too, when `all`. */
  private closePortals(all: boolean): void {
    for (const [name, p] of this.portals) {
      if (p.cursor && !all) continue;
      p.conn?.close();
      this.portals.delete(name);
    }
  }
}

/** Result formats under the 0 / 1 / n rule; binary only for types this server encodes in binary. */
function withFormats(fields: Field[], resultFormats: number[]): Field[] {
  return fields.map((f, i) => ({ ...f, format: (formatAt(resultFormats, i) === 1 && binaryOk(f.oid) ? 1 : 0) as 0 | 1 }));
}

export const newSecret = () => crypto.randomInt(1, 2 ** 31 - 1);
