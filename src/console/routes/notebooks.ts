/**
 * Notebooks (Zeppelin + Hue's SQL editor) and the read-only SQL they run.
 *
 *   GET  /api/notebooks                   [{id, title, paragraphs, modified}]
 *   GET  /api/notebooks/:id               the parsed notebook
 *   PUT  /api/notebooks/:id               (token) save (creates it when new)
 *   GET  /api/sql/schema                  tables → columns, for autocompletion
 *   POST /api/sql/run    {sql, params, limit?}   NDJSON stream, one JSON object per line:
 *          {"type":"meta","run":id,"sql":…,"columns":[…],"types":[…]}
 *          {"type":"rows","rows":[[…],…]}                 one per engine chunk (~2,048 rows)
 *          {"type":"end","rows":n,"ms":t,"stopped":null|"row limit"|"time limit"|"cancelled"}
 *          an error before the first row is a 400 {"error": DuckDB's message with its LINE/caret}
 *   POST /api/sql/runs/:id/cancel         interrupts a run (so does closing the response)
 *   GET  /api/sql/csv?sql=…&params={…}    the result as CSV (attachment)
 *
 * Rows flow from the engine to the socket chunk by chunk and wait for the socket to drain: the server
 * holds one chunk per run, never the whole result. Every run has a row limit and a time limit.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { HttpError, type Router, errorMessage, shippedPath } from '../../core/index.ts';
import { checkReadOnly, ReadOnlyViolation, type QueryStream } from '../../sql/index.ts';
import type { ConsoleContext } from '../context.ts';
import { parseForms, substituteForms } from '../forms.ts';
import { formatNotebook, notebookSchema, parseNotebook, NOTEBOOK_ID, NotebookFormatError, seedNotebooks } from '../notebook.ts';

export const SHIPPED_NOTEBOOKS = shippedPath('notebooks');

const runBody = z.object({
  sql: z.string().min(1, 'empty SQL').max(200_000),
  params: z.record(z.string(), z.string().max(10_000)).default({}),
  limit: z.number().int().min(1).max(10_000_000).optional(),
});

interface Running { stream?: QueryStream; cancelled: boolean; cancel(): void }

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function write(res: ServerResponse, text: string): Promise<void> | undefined {
  if (res.write(text)) return undefined;
  return new Promise((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function notebookRoutes(router: Router, ctx: ConsoleContext): { runs: Map<string, Running> } {
  const runs = new Map<string, Running>();
  const rowLimit = ctx.o.rowLimit ?? 1_000_000;
  const timeLimitMs = (ctx.o.timeLimitSeconds ?? 120) * 1000;
  seedNotebooks(ctx.notebooksDir, SHIPPED_NOTEBOOKS);
  const file = (id: string) => {
    if (!NOTEBOOK_ID.test(id)) throw new HttpError(400, `params.id: '${id}' is not a notebook id (letters, digits, - and _)`);
    return path.join(ctx.notebooksDir, `${id}.md`);
  };

  /** Substitutes the forms, checks the SQL is read-only, and starts it; a refusal or SQL error is a 400. */
  const start = async (sql0: string, params: Record<string, string>) => {
    const sql = substituteForms(sql0, params).trim().replace(/;\s*$/, '');
    const cat = await ctx.sqlCatalog();
    try {
      await checkReadOnly(cat, sql);
      return { sql, stream: await cat.stream(sql) };
    } catch (err) {
      if (err instanceof ReadOnlyViolation) throw new HttpError(400, err.message);
      throw new HttpError(400, errorMessage(err));
    }
  };

  router.route({
    method: 'GET', path: '/api/notebooks', summary: 'the notebooks under <data>/notebooks',
    response: z.array(z.object({ id: z.string(), title: z.string(), paragraphs: z.number(), modified: z.number(), error: z.string().optional() })),
    handler: async () => {
      fs.mkdirSync(ctx.notebooksDir, { recursive: true });
      const out = [];
      for (const f of fs.readdirSync(ctx.notebooksDir).filter((x) => x.endsWith('.md')).sort()) {
        const id = f.slice(0, -3);
        if (!NOTEBOOK_ID.test(id)) continue;
        const full = path.join(ctx.notebooksDir, f);
        const modified = fs.statSync(full).mtimeMs;
        try {
          const nb = parseNotebook(fs.readFileSync(full, 'utf8'), f);
          out.push({ id, title: nb.title, paragraphs: nb.paragraphs.length, modified });
        } catch (err) {
          out.push({ id, title: id, paragraphs: 0, modified, error: errorMessage(err) });
        }
      }
      return out;
    },
  });

  router.route({
    method: 'GET', path: '/api/notebooks/:id', summary: 'one notebook, parsed',
    response: notebookSchema.extend({ id: z.string(), file: z.string() }),
    handler: async ({ params }) => {
      const f = file(params.id);
      if (!fs.existsSync(f)) throw new HttpError(404, `no notebook '${params.id}' (${f})`);
      try {
        return { id: params.id, file: f, ...parseNotebook(fs.readFileSync(f, 'utf8'), path.basename(f)) };
      } catch (err) {
        if (err instanceof NotebookFormatError) throw new HttpError(422, err.message);
        throw err;
      }
    },
  });

  router.route({
    method: 'PUT', path: '/api/notebooks/:id', summary: 'save a notebook (Markdown file)',
    body: notebookSchema, response: z.object({ id: z.string(), file: z.string(), bytes: z.number() }),
    handler: async ({ params, body }) => {
      const f = file(params.id);
      const text = formatNotebook(body);
      const tmp = `${f}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, f);
      return { id: params.id, file: f, bytes: Buffer.byteLength(text) };
    },
  });

  router.route({
    method: 'GET', path: '/api/sql/schema', summary: 'tables and their columns, for autocompletion',
    response: z.record(z.string(), z.array(z.string())),
    handler: async () => {
      const cat = await ctx.sqlCatalog();
      await cat.tables();
      const r = await cat.query(`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`);
      const out: Record<string, string[]> = {};
      for (const [t, c] of r.rows) (out[String(t)] ??= []).push(String(c));
      return out;
    },
  });

  router.route({
    method: 'POST', path: '/api/sql/forms', summary: 'the dynamic forms of a SQL text',
    body: z.object({ sql: z.string().max(200_000) }),
    response: z.array(z.object({ name: z.string(), defaultValue: z.string(), options: z.array(z.string()).optional() })),
    handler: async ({ body }) => parseForms(body.sql),
  });

  router.route({
    method: 'POST', path: '/api/sql/run', summary: 'run read-only SQL, rows streamed as NDJSON',
    body: runBody,
    handler: async ({ body, res, req }) => {
      const t0 = performance.now();
      const limit = Math.min(body.limit ?? rowLimit, rowLimit);
      const id = crypto.randomBytes(8).toString('hex');
      const run: Running = { cancelled: false, cancel() { this.cancelled = true; this.stream?.cancel(); } };
      runs.set(id, run);
      let stopped: string | null = null;
      const timer = setTimeout(() => { stopped = 'time limit'; run.cancel(); }, timeLimitMs);
      req.on('close', () => { if (!res.writableEnded) { stopped ??= 'cancelled'; run.cancel(); } });
      try {
        const { sql, stream } = await start(body.sql, body.params);
        run.stream = stream;
        if (run.cancelled) stream.cancel();
        res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache', 'x-run-id': id });
        res.socket?.setNoDelay(true);
        await write(res, JSON.stringify({ type: 'meta', run: id, sql, columns: stream.columns, types: stream.types, limit }) + '\n');
        let n = 0;
        for (;;) {
          let rows: unknown[][] | undefined;
          try {
            rows = await stream.next();
          } catch (err) {
            if (!run.cancelled) await write(res, JSON.stringify({ type: 'error', error: errorMessage(err) }) + '\n');
            break;
          }
          if (!rows || res.destroyed) break;
          if (n + rows.length > limit) rows = rows.slice(0, limit - n);
          n += rows.length;
          await write(res, JSON.stringify({ type: 'rows', rows }) + '\n');
          if (n >= limit) {
            stopped = 'row limit';
            stream.cancel();
            break;
          }
        }
        if (run.cancelled && !stopped) stopped = 'cancelled';
        if (!res.destroyed) res.end(JSON.stringify({ type: 'end', rows: n, ms: Math.round(performance.now() - t0), stopped }) + '\n');
        return undefined;
      } finally {
        clearTimeout(timer);
        runs.delete(id);
        run.stream?.cancel();
      }
    },
  });

  router.route({
    method: 'POST', path: '/api/sql/runs/:id/cancel', summary: 'cancel a running query',
    response: z.object({ cancelled: z.boolean() }),
    handler: async ({ params }) => {
      const r = runs.get(params.id);
      r?.cancel();
      return { cancelled: !!r };
    },
  });

  router.route({
    method: 'GET', path: '/api/sql/csv', summary: 'a query result as CSV',
    query: z.object({
      sql: z.string().min(1, 'empty SQL').max(100_000),
      params: z.string().default('{}').transform((s, c) => {
        try {
          return z.record(z.string(), z.string()).parse(JSON.parse(s));
        } catch {
          c.addIssue({ code: 'custom', message: 'a JSON object of form values' });
          return z.NEVER;
        }
      }),
      name: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/).default('result'),
    }),
    handler: async ({ query, res, req }) => {
      const { stream } = await start(query.sql, query.params);
      let n = 0;
      req.on('close', () => stream.cancel());
      const timer = setTimeout(() => stream.cancel(), timeLimitMs);
      try {
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${query.name}.csv"` });
        await write(res, stream.columns.map(csvCell).join(',') + '\n');
        for (;;) {
          const rows = await stream.next().catch(() => undefined);
          if (!rows || res.destroyed) break;
          n += rows.length;
          await write(res, rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
          if (n >= rowLimit) break;
        }
        res.end();
        return undefined;
      } finally {
        clearTimeout(timer);
        stream.cancel();
      }
    },
  });
  return { runs };
}
