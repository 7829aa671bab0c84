/**
 * `npm run bench:pggw` — our PostgreSQL-protocol codec (src/pgwire) against servers built on `pg-gateway`,
 * over the same DuckDB engine, the same Parquet mart, the same SCRAM-SHA-256 password, in the same run
 * (issue 16: "choose the building blocks with measurements").
 *
 * Servers, each its own process (`--serve KIND`), so a server's CPU and RSS are its own and the client
 * never shares its event loop:
 *   ours      `startSqlServer` (src/pgwire).
 *   gw02      pg-gateway 0.2.4 (npm `latest`). It has no SCRAM mode (none | cleartext | md5 | certificate) and
 *             its `onQuery` is not wired in this build (a Query gets "Queries not yet implemented"), so SCRAM
 *             is done in `onStartup` + `onMessage` with our ScramExchange, and queries in `onMessage`.
 *             Backend messages are built with pg-protocol's `Writer` (pg-protocol's serializer is the
 *             frontend's only); one DataRow per `flush(0x44)`, the chunk's rows in one socket write,
 *             waiting for 'drain' (the library's `sendData` ignores backpressure).
 *   gw03      pg-gateway 0.3.0-beta.4 (npm alias `pg-gateway-next`): `fromNodeSocket`, its built-in
 *             `scram-sha-256` auth, queries in `onMessage` returning an async generator (its streaming
 *             answer: the library awaits the web-stream writer per yielded message). One DataRow per
 *             yield from its `bufferWriter`, values as JS strings (`getItem`), TextEncoder'd. It reports only
 *             server_version, so the other start-up parameters are written from `onAuthenticated`.
 *   gw03raw   gw03 with our encoding choices: VARCHAR bytes straight from DuckDB's vectors (`utf8`), the
 *             chunk's DataRows in one yield. Shows what the library itself costs once the user does
 *             what our codec does.
 * Every server: the same start-up parameters (client_encoding UTF8…), one DuckDB connection per session made
 * after authentication, read-only check
 * (`kind` select/explain), RowDescription with our OIDs (types.ts), CommandComplete `SELECT n`,
 * DuckDB errors as ErrorResponse with our SQLSTATE mapping, no statement timeout, Nagle off.
 *
 * Measured (the client is psql or node-postgres in this, a separate process):
 *   1. bulk read: `psql -X -q -c 'select * from MART' > /dev/null`, 1,000,000 rows × 8 varchar, best of
 *      BENCH_RUNS (3), the servers taking turns within each round (who goes first rotates); the server's CPU
 *      seconds per read (/proc) and psql's (bash `time`): on a loaded machine the CPU is steadier than the wall.
 *      Before that, every server's first 50,000 rows (psql -A -t) must hash the same, a wrong password must be
 *      refused, and psql must see client_encoding UTF8 (it formats by the encoding reported at connect).
 *   2. connection set-up: BENCH_CONNECTS (200) sequential node-postgres `connect(); query('select 1'); end()`
 *      per server, taking turns (rotating); median and p90 ms.
 *   3. lines of code: non-blank, non-comment lines of src/pgwire and of each server below (between the
 *      `// --- KIND ---` markers).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net, { type AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import { once } from 'node:events';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { SqlChunk, SqlEngine, SqlSession, SqlStatement } from '../src/sql/index.ts';
import { SYMPTOM_MART, listeningPort, psqlRun, writeSymptomMart } from './support.ts';

const KINDS = ['ours', 'gw02', 'gw03', 'gw03raw'] as const;
type Kind = (typeof KINDS)[number];
const USER = 'smartcar';
const SERVER_VERSION = '15.0 (bench)';
/**
 * What every server reports after authentication (ours reports more). client_encoding matters: without it
 * libpq assumes SQL_ASCII, and psql then formats UTF-8 text byte by byte — cheaper, and wrong for non-ASCII.
 */
const REPORTED: [string, string][] = [['server_version', SERVER_VERSION], ['server_encoding', 'UTF8'], ['client_encoding', 'UTF8'], ['DateStyle', 'ISO, MDY'], ['integer_datetimes', 'on'], ['standard_conforming_strings', 'on']];

// ---------------------------------------------------------------------------------------------------
// The servers (run in the child process)

async function serve(kind: Kind, dataDir: string, password: string): Promise<void> {
  const { openSqlEngine } = await import('../src/sql/index.ts');
  const engine = await openSqlEngine({ dataDir });
  let port: number;
  if (kind === 'ours') {
    const { startSqlServer } = await import('../src/pgwire/index.ts');
    const s = await startSqlServer({ engine, credentials: { user: USER, password, source: 'bench', configured: true }, port: 0, statementTimeoutMs: 0 });
    port = s.port;
  } else {
    const server = kind === 'gw02' ? await gw02(engine, password) : await gw03(engine, password, kind === 'gw03raw');
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  }
  process.stdout.write(`listening 127.0.0.1:${port}\n`);
}

// --- gw02 ---
async function gw02(engine: SqlEngine, password: string): Promise<net.Server> {
  const { PostgresConnection } = await import('pg-gateway');
  const { Writer } = await import('pg-protocol/dist/buffer-writer.js');
  const { ScramExchange, ScramError, makeVerifier } = await import('../src/core/scram.ts');
  const { pgType } = await import('../src/pgwire/types.ts');
  const { pgErrorOf } = await import('../src/pgwire/errors.ts');
  const verifier = makeVerifier(password);
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    let session: SqlSession | undefined;
    let scram: InstanceType<typeof ScramExchange> | undefined;
    let step: 'initial' | 'final' | 'ready' = 'initial';
    const w = new Writer();
    socket.on('close', () => session?.close());
    socket.on('error', () => socket.destroy());
    const conn: InstanceType<typeof PostgresConnection> = new PostgresConnection(socket, {
      serverVersion: SERVER_VERSION,
      // No SCRAM in 0.2.4: answer the startup ourselves (true = the library's own auth is skipped).
      onStartup() {
        scram = new ScramExchange(verifier);
        conn.sendData(w.addInt32(10).addCString('SCRAM-SHA-256').addCString('').flush(0x52));
        return true;
      },
      async onMessage(data, state): Promise<boolean> {
        if (!state.hasStarted) return false; // SSLRequest and the startup message: the library's
        const r = conn.reader;
        const type = r.byte();
        const len = r.int32();
        if (step !== 'ready') {
          if (type !== 0x70) return fatal('08P01', 'expected a SASL response');
          try {
            if (step === 'initial') {
              if (r.cstring() !== 'SCRAM-SHA-256') throw new ScramError('unsupported SASL mechanism');
              const n = r.int32();
              conn.sendData(w.addInt32(11).add(Buffer.from(scram!.first(r.string(n)))).flush(0x52));
              step = 'final';
              return true;
            }
            const final = scram!.final(r.string(len - 4));
            if (conn.clientInfo?.parameters.user !== USER) throw new ScramError('wrong user');
            conn.sendData(w.addInt32(12).add(Buffer.from(final)).flush(0x52));
          } catch (e) {
            if (!(e instanceof ScramError)) throw e;
            return fatal('28P01', `password authentication failed for user "${conn.clientInfo?.parameters.user ?? ''}"`);
          }
          session = await engine.session();
          step = 'ready';
          conn.sendAuthenticationOk();
          for (const [k, v] of REPORTED) conn.sendParameterStatus(k, v);
          conn.sendReadyForQuery('idle');
          return true;
        }
        if (type === 0x58) {
          conn.socket.end(); // Terminate (the library would read the header again from the reader we advanced)
          return true;
        }
        if (type !== 0x51) return fatal('0A000', `message type ${String.fromCharCode(type)} is not supported`);
        await query(r.cstring());
        conn.sendReadyForQuery('idle');
        return true;
      },
    });
    function fatal(code: string, message: string): true {
      conn.sendError({ severity: 'FATAL', code, message });
      conn.socket.end();
      return true;
    }
    async function query(sql: string): Promise<void> {
      let stmt: SqlStatement | undefined;
      try {
        stmt = await session!.prepare(sql);
        if (stmt.kind !== 'select' && stmt.kind !== 'explain') {
          conn.sendError({ severity: 'ERROR', code: '25006', message: `cannot execute ${stmt.typeName} in a read-only session` });
          return;
        }
        const rows = await stmt.run([]);
        w.addInt16(rows.columns.length);
        for (const c of rows.columns) {
          const t = pgType(c.type);
          w.addCString(c.name).addInt32(0).addInt16(0).addInt32(t.oid).addInt16(t.typlen).addInt32(t.typmod).addInt16(0);
        }
        conn.sendData(w.flush(0x54));
        let n = 0;
        for (let chunk = await rows.next(); chunk; chunk = await rows.next()) {
          const msgs: Buffer[] = [];
          for (let i = 0; i < chunk.rowCount; i++) {
            w.addInt16(chunk.columns.length);
            for (const col of chunk.columns) {
              const v = col.get(i);
              if (v === null || v === undefined) w.addInt32(-1);
              else w.addInt32PrefixedString(String(v));
            }
            msgs.push(w.flush(0x44));
          }
          n += chunk.rowCount;
          if (!conn.socket.write(Buffer.concat(msgs))) await Promise.race([once(conn.socket, 'drain'), once(conn.socket, 'close')]);
          if (conn.socket.destroyed) return;
        }
        conn.sendData(w.addCString(`SELECT ${n}`).flush(0x43));
      } catch (e) {
        const { code, message, detail } = pgErrorOf(e);
        conn.sendError({ severity: 'ERROR', code, message, detail });
      } finally {
        stmt?.close();
      }
    }
  });
}
// --- end gw02 ---

// --- gw03 ---
async function gw03(engine: SqlEngine, password: string, raw: boolean): Promise<net.Server> {
  const { fromNodeSocket } = await import('pg-gateway-next/node');
  const { BackendError, createScramSha256Data, verifyScramSha256Password } = await import('pg-gateway-next');
  const { pgType } = await import('../src/pgwire/types.ts');
  const { pgErrorOf } = await import('../src/pgwire/errors.ts');
  const scramData = await createScramSha256Data(password);
  const encoder = new TextEncoder();
  return net.createServer(async (socket) => {
    socket.setNoDelay(true);
    let session: SqlSession | undefined;
    socket.on('close', () => session?.close());
    socket.on('error', () => socket.destroy());
    const conn = await fromNodeSocket(socket, {
      serverVersion: SERVER_VERSION,
      auth: {
        method: 'scram-sha-256',
        getScramSha256Data: () => scramData,
        validateCredentials: async ({ username, authMessage, clientProof, scramSha256Data }) =>
          username === USER && verifyScramSha256Password({ authMessage, clientProof, storedKey: scramSha256Data.storedKey }),
      },
      // 0.3 reports only server_version and has no hook to add to it. psql reads client_encoding once, at
      // connect (without it, SQL_ASCII: cheaper, wrong formatting), so the rest goes straight to the socket here,
      // after the library's AuthenticationOk and before its ReadyForQuery.
      async onAuthenticated() {
        session = await engine.session();
        for (const [k, v] of REPORTED.slice(1)) socket.write(conn.createParameterStatus(k, v));
      },
      onMessage(data, state) {
        if (!state.isAuthenticated || data[0] !== 0x51) return undefined; // everything but Query: the library's
        return query(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8', 5, data.byteLength - 1));
      },
    });
    async function* query(sql: string): AsyncGenerator<Uint8Array> {
      const w = conn.bufferWriter;
      let stmt: SqlStatement | undefined;
      try {
        stmt = await session!.prepare(sql);
        if (stmt.kind !== 'select' && stmt.kind !== 'explain') {
          yield BackendError.create({ severity: 'ERROR', code: '25006', message: `cannot execute ${stmt.typeName} in a read-only session` }).flush();
        } else {
          const rows = await stmt.run([]);
          w.addInt16(rows.columns.length);
          for (const c of rows.columns) {
            const t = pgType(c.type);
            w.addCString(c.name).addInt32(0).addInt16(0).addInt32(t.oid).addInt16(t.typlen).addInt32(t.typmod).addInt16(0);
          }
          yield w.flush(0x54);
          let n = 0;
          for (let chunk = await rows.next(); chunk; chunk = await rows.next()) {
            if (raw) yield rawRows(w, chunk);
            else {
              for (let i = 0; i < chunk.rowCount; i++) {
                w.addInt16(chunk.columns.length);
                for (const col of chunk.columns) {
                  const v = col.get(i);
                  if (v === null || v === undefined) w.addInt32(-1);
                  else {
                    const b = encoder.encode(String(v));
                    w.addInt32(b.length).add(b);
                  }
                }
                yield w.flush(0x44);
              }
            }
            n += chunk.rowCount;
          }
          w.addCString(`SELECT ${n}`);
          yield w.flush(0x43);
        }
      } catch (e) {
        const { code, message, detail } = pgErrorOf(e);
        yield BackendError.create({ severity: 'ERROR', code, message, detail }).flush();
      } finally {
        stmt?.close();
      }
      yield conn.createReadyForQuery('idle');
    }
  });
}

/** A chunk's DataRows written whole (type byte and length by hand: the writer frames one message per flush). */
function rawRows(w: { addInt32(n: number): unknown; addInt16(n: number): unknown; add(b: Uint8Array): unknown; flush(): Uint8Array }, chunk: SqlChunk): Uint8Array {
  const D = new Uint8Array([0x44]);
  const cells: (Uint8Array | null)[] = new Array(chunk.columns.length);
  for (let i = 0; i < chunk.rowCount; i++) {
    let len = 4 + 2;
    for (let c = 0; c < chunk.columns.length; c++) {
      const col = chunk.columns[c]!;
      const v = col.utf8 ? col.utf8(i) : col.get(i) === null ? null : Buffer.from(String(col.get(i)));
      cells[c] = v;
      len += 4 + (v?.length ?? 0);
    }
    w.add(D);
    w.addInt32(len);
    w.addInt16(cells.length);
    for (const v of cells) {
      if (v === null) w.addInt32(-1);
      else {
        w.addInt32(v.length);
        w.add(v);
      }
    }
  }
  return w.flush();
}
// --- end gw03 ---

// ---------------------------------------------------------------------------------------------------
// The measurement (the parent process)

const log = (s: string) => process.stdout.write(s + '\n');
const uptime = () => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15 of stat(5), after pid, comm and state
}

const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function startChild(kind: Kind, dataDir: string, password: string): Promise<{ kind: Kind; child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', kind, dataDir], {
    env: { ...process.env, BENCH_PASSWORD: password, SMARTCAR_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await listeningPort(child, `${kind} server`);
  return { kind, child, port };
}

/** Non-blank lines that are not only a comment. */
function codeLines(text: string): number {
  let n = 0;
  let block = false;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (block) {
      if (l.includes('*/')) block = false;
      continue;
    }
    if (l === '' || l.startsWith('//')) continue;
    if (l.startsWith('/*')) {
      if (!l.includes('*/')) block = true;
      continue;
    }
    n++;
  }
  return n;
}

function sourceLines(): { ours: number; files: [string, number][]; gw02: number; gw03: number } {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/pgwire');
  const files: [string, number][] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) files.push([path.relative(dir, p), codeLines(fs.readFileSync(p, 'utf8'))]);
    }
  };
  walk(dir);
  const me = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const region = (k: string) => codeLines(me.slice(me.indexOf(`// --- ${k} ---`), me.indexOf(`// --- end ${k} ---`)));
  return { ours: files.reduce((a, [, n]) => a + n, 0), files: files.sort((a, b) => b[1] - a[1]), gw02: region('gw02'), gw03: region('gw03') };
}

async function main(): Promise<void> {
  const RUNS = Number(process.env.BENCH_RUNS ?? 3);
  const CONNECTS = Number(process.env.BENCH_CONNECTS ?? 200);
  const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const PSQL_ARGS = process.env.BENCH_PSQL_ARGS?.split(' ').filter(Boolean) ?? [];
  const only = (process.env.BENCH_SERVERS?.split(',') as Kind[] | undefined) ?? [...KINDS];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bench-pggw-'));
  const password = crypto.randomBytes(12).toString('base64url');
  log(`# bench:pggw  ${new Date().toISOString()}  ${os.cpus().length} cores  ${uptime()}`);
  log(`pg-gateway ${JSON.parse(fs.readFileSync('node_modules/pg-gateway/package.json', 'utf8')).version}, pg-gateway-next ${JSON.parse(fs.readFileSync('node_modules/pg-gateway-next/package.json', 'utf8')).version}`);
  await writeSymptomMart(root, ROWS);
  const servers: Awaited<ReturnType<typeof startChild>>[] = [];
  try {
    for (const k of only) servers.push(await startChild(k, root, password));
    const env = (port: number) => ({ ...process.env, PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: USER, PGPASSWORD: password, PGDATABASE: 'smartcar' });

    // 0. Same answer from every server.
    const hashes = servers.map((s) => {
      const r = spawnSync('sh', ['-c', `psql -X -q -A -t -c "select * from ${SYMPTOM_MART} limit 50000" | sha256sum`], { env: env(s.port), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${s.kind}: psql failed: ${r.stderr}`);
      // psql formats by the client_encoding reported at connect: every server must report UTF8.
      const enc = spawnSync('psql', ['-X', '-q', '-c', '\\encoding'], { env: env(s.port), encoding: 'utf8' }).stdout.trim();
      if (enc !== 'UTF8') throw new Error(`${s.kind}: psql sees client encoding ${enc}, not UTF8`);
      return r.stdout.split(' ')[0]!;
    });
    if (new Set(hashes).size !== 1) throw new Error(`servers disagree on the first 50,000 rows: ${servers.map((s, i) => `${s.kind} ${hashes[i]}`).join(', ')}`);
    const wrong = spawnSync('psql', ['-X', '-q', '-c', 'select 1'], { env: { ...env(servers[0]!.port), PGPASSWORD: 'wrong' }, encoding: 'utf8' });
    log(`same first 50,000 rows from every server (sha256 ${hashes[0]!.slice(0, 12)}); a wrong password is refused: ${wrong.status !== 0 ? 'yes' : 'NO'}`);
    for (const s of servers.slice(1)) {
      const r = spawnSync('psql', ['-X', '-q', '-c', 'select 1'], { env: { ...env(s.port), PGPASSWORD: 'wrong' }, encoding: 'utf8' });
      if (r.status === 0) throw new Error(`${s.kind} accepted a wrong password`);
    }

    // 1. Bulk read, servers taking turns.
    const wall = new Map<Kind, number[]>(servers.map((s) => [s.kind, []]));
    const cpu = new Map<Kind, number[]>(servers.map((s) => [s.kind, []]));
    const psqlCpu = new Map<Kind, number[]>(servers.map((s) => [s.kind, []]));
    const turn = (i: number) => servers.map((_, j) => servers[(i + j) % servers.length]!); // who goes first rotates
    for (let i = 0; i < RUNS; i++) {
      for (const s of turn(i)) {
        const c0 = cpuSeconds(s.child.pid!);
        const r = psqlRun(env(s.port), `select * from ${SYMPTOM_MART}`, PSQL_ARGS);
        wall.get(s.kind)!.push(r.seconds);
        cpu.get(s.kind)!.push(cpuSeconds(s.child.pid!) - c0);
        psqlCpu.get(s.kind)!.push(r.clientCpu);
      }
      log(`  round ${i + 1}: ${servers.map((s) => `${s.kind} ${wall.get(s.kind)![i]!.toFixed(2)} s`).join(', ')}  (${uptime().replace(/.*load/, 'load')})`);
    }
    const base = Math.min(...wall.get(servers[0]!.kind)!);
    log(`bulk read ${fmt(ROWS)} rows x 8 varchar, psql -c 'select *' > /dev/null, best of ${RUNS}:`);
    for (const s of servers) {
      const best = Math.min(...wall.get(s.kind)!);
      log(`  ${s.kind.padEnd(8)} ${best.toFixed(2)} s  ${fmt(ROWS / best).padStart(9)} rows/s  (runs ${wall.get(s.kind)!.map((x) => x.toFixed(2)).join(' ')})  server CPU ${median(cpu.get(s.kind)!).toFixed(2)} s, psql CPU ${median(psqlCpu.get(s.kind)!).toFixed(2)} s (medians)  peak RSS ${peakRssMb(s.child.pid!).toFixed(0)} MB  → ${(base / best).toFixed(2)}x of ${servers[0]!.kind}'s rows/s`);
    }

    // 2. Connection set-up, servers taking turns.
    const times = new Map<Kind, number[]>(servers.map((s) => [s.kind, []]));
    for (let i = 0; i < CONNECTS; i++) {
      for (const s of turn(i)) {
        const t0 = performance.now();
        const c = new pg.Client({ host: '127.0.0.1', port: s.port, user: USER, password, database: 'smartcar' });
        await c.connect();
        const r = await c.query('select 1 as one');
        await c.end();
        times.get(s.kind)!.push(performance.now() - t0);
        if (r.rows[0]?.one !== 1) throw new Error(`${s.kind}: select 1 gave ${JSON.stringify(r.rows)}`);
      }
    }
    log(`connection set-up: ${CONNECTS} sequential node-postgres connect (SCRAM-SHA-256) + query('select 1') + end, per server:  (${uptime().replace(/.*load/, 'load')})`);
    for (const s of servers) log(`  ${s.kind.padEnd(8)} median ${median(times.get(s.kind)!).toFixed(2)} ms  p90 ${pct(times.get(s.kind)!, 0.9).toFixed(2)} ms`);

    // 3. Lines of code.
    const loc = sourceLines();
    log(`lines of code (non-blank, non-comment): src/pgwire ${loc.ours} (${loc.files.map(([f, n]) => `${f} ${n}`).join(', ')}); bench gw02 server ${loc.gw02}; bench gw03 server ${loc.gw03}`);
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => (s.child.exitCode === null ? once(s.child, 'exit') : undefined)));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--serve');
if (at >= 0) await serve(process.argv[at + 1] as Kind, process.argv[at + 2]!, process.env.BENCH_PASSWORD!);
else await main();
