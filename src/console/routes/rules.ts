/**
 * Rules: the EPL files the stream runs (`<data>/rules/*.epl`, hot-reloaded by the stream), checked as
 * they are typed, tried on recent data, saved.
 *
 *   GET  /api/rules                       [{file, statements | error}]
 *   GET  /api/rules/:file                 {file, text}
 *   POST /api/rules/check  {text}         {ok, statements[], error?: {message, line, column}}
 *   POST /api/rules/test   {file, text}   the last hour of driving records through the edited text and
 *                                         through the file as saved: the alerts each raises, side by side
 *   PUT  /api/rules/:file  {text}         (token) checked, then written atomically; the stream reloads it
 *
 * "The last hour" is of event time, ending at the newest record of the driving log, read from its end
 * (at most `TEST_BYTES` of it, so a test stays interactive on a large fleet; the answer says how many
 * records and which span it used).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HttpError, type Router, errorMessage, parseDrivingRecord, type DrivingRecord, formatTimestamp14 } from '../../core/index.ts';
import { CepEngine, EplError } from '../../cep/index.ts';
import type { CepOutput } from '../../cep/index.ts';
import { alertsOf } from '../../stream/index.ts';
import type { ConsoleContext } from '../context.ts';

export const TEST_BYTES = 32 * 1024 * 1024;
const HOUR_MS = 3_600_000;
const FILE = /^[A-Za-z0-9_-]{1,80}\.epl$/;

export function checkEpl(text: string, source: string) {
  try {
    const stmts = new CepEngine().compile(text, source);
    return { ok: true, statements: stmts.map((s) => ({ name: s.name, text: s.ast.text })) };
  } catch (err) {
    if (err instanceof EplError) return { ok: false, statements: [], error: { message: err.reason, line: err.line, column: err.column, full: err.message } };
    throw err;
  }
}

/** The driving records of the last hour (event time) at the end of the log, oldest first. */
export async function recentRecords(logFile: string, maxBytes = TEST_BYTES): Promise<{ records: DrivingRecord[]; bytes: number; capped: boolean }> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(logFile, 'r');
  } catch {
    return { records: [], bytes: 0, capped: false };
  }
  try {
    const size = (await fh.stat()).size;
    const span = Math.min(size, maxBytes);
    const buf = Buffer.alloc(span);
    await fh.read(buf, 0, span, size - span);
    const lines = buf.toString('latin1').split('\n');
    if (span < size) lines.shift();
    const records: DrivingRecord[] = [];
    for (const l of lines) {
      const p = parseDrivingRecord(l);
      if (p.ok) records.push(p.record);
    }
    const newest = records.reduce((m, r) => Math.max(m, r.eventTime), 0);
    return { records: records.filter((r) => r.eventTime > newest - HOUR_MS), bytes: span, capped: span < size };
  } finally {
    await fh.close();
  }
}

function replay(text: string, source: string, records: DrivingRecord[]) {
  const engine = new CepEngine();
  engine.deploy(text, source);
  const outs: CepOutput[] = [];
  engine.onOutput((o) => outs.push(o));
  for (const r of records) engine.send('DrivingRecord', r as unknown as Record<string, unknown>, r.eventTime);
  engine.flush();
  const alerts = outs.flatMap(alertsOf).map((a) => ({ car: a.carNumber, date: a.date, avgSpeed: Math.round(a.avgSpeed * 10) / 10, statement: '' }));
  const stats = engine.stats();
  engine.close();
  return { alerts, late: stats.late };
}

const errorSchema = z.object({ message: z.string(), line: z.number(), column: z.number(), full: z.string() });
const checkSchema = z.object({ ok: z.boolean(), statements: z.array(z.object({ name: z.string(), text: z.string() })), error: errorSchema.optional() });
const alertList = z.array(z.object({ car: z.string(), date: z.string(), avgSpeed: z.number(), statement: z.string() }));

export function ruleRoutes(router: Router, ctx: ConsoleContext): void {
  const dir = ctx.paths.rules;
  const file = (name: string) => {
    if (!FILE.test(name)) throw new HttpError(400, `params.file: '${name}' is not a rule file name (letters, digits, - and _, ending in .epl)`);
    return path.join(dir, name);
  };

  router.route({
    method: 'GET', path: '/api/rules', summary: 'the rule files and what they deploy',
    response: z.array(z.object({ file: z.string(), bytes: z.number(), modified: z.number(), ok: z.boolean(), statements: z.array(z.object({ name: z.string(), text: z.string() })), error: errorSchema.optional() })),
    handler: async () => {
      if (!fs.existsSync(dir)) return [];
      return fs.readdirSync(dir).filter((f) => FILE.test(f)).sort().map((f) => {
        const full = path.join(dir, f);
        const st = fs.statSync(full);
        return { file: f, bytes: st.size, modified: st.mtimeMs, ...checkEpl(fs.readFileSync(full, 'utf8'), f) };
      });
    },
  });

  router.route({
    method: 'GET', path: '/api/rules/:file', summary: 'a rule file', response: z.object({ file: z.string(), text: z.string() }),
    handler: async ({ params }) => {
      const f = file(params.file);
      if (!fs.existsSync(f)) throw new HttpError(404, `no rule file '${params.file}' in ${dir}`);
      return { file: params.file, text: fs.readFileSync(f, 'utf8') };
    },
  });

  router.route({
    method: 'POST', path: '/api/rules/check', summary: 'parse and type-check EPL: statements, or the error at line and column',
    body: z.object({ text: z.string().max(200_000), file: z.string().max(100).default('rule.epl') }), response: checkSchema,
    handler: async ({ body }) => checkEpl(body.text, body.file),
  });

  router.route({
    method: 'POST', path: '/api/rules/test', summary: 'the last hour of records through the edited rule and the saved one',
    body: z.object({ text: z.string().max(200_000), file: z.string().max(100).optional() }),
    response: z.object({
      records: z.number(), from: z.string().nullable(), to: z.string().nullable(), bytesRead: z.number(), capped: z.boolean(), ms: z.number(),
      edited: z.object({ alerts: alertList, late: z.number() }), current: z.object({ alerts: alertList, late: z.number(), file: z.string() }).nullable(),
      onlyEdited: z.number(), onlyCurrent: z.number(), both: z.number(),
    }),
    handler: async ({ body }) => {
      const t0 = performance.now();
      const checked = checkEpl(body.text, body.file ?? 'edited.epl');
      if (!checked.ok) throw new HttpError(400, `body.text: ${checked.error!.full}`);
      const { records, bytes, capped } = await recentRecords(ctx.paths.driverLog);
      const edited = replay(body.text, 'edited', records);
      let current: (ReturnType<typeof replay> & { file: string }) | null = null;
      if (body.file) {
        const f = file(body.file);
        if (fs.existsSync(f)) {
          try {
            current = { ...replay(fs.readFileSync(f, 'utf8'), body.file, records), file: body.file };
          } catch (err) {
            throw new HttpError(409, `the saved ${body.file} does not compile: ${errorMessage(err)}`);
          }
        }
      }
      const key = (a: { car: string; date: string }) => `${a.car}-${a.date}`;
      const e = new Set(edited.alerts.map(key)), c = new Set((current?.alerts ?? []).map(key));
      const times = records.map((r) => r.eventTime);
      return {
        records: records.length, from: times.length ? formatTimestamp14(times.reduce((m, t) => Math.min(m, t), Infinity)) : null,
        to: times.length ? formatTimestamp14(times.reduce((m, t) => Math.max(m, t), 0)) : null, bytesRead: bytes, capped, ms: Math.round(performance.now() - t0),
        edited, current, onlyEdited: [...e].filter((k) => !c.has(k)).length, onlyCurrent: [...c].filter((k) => !e.has(k)).length, both: [...e].filter((k) => c.has(k)).length,
      };
    },
  });

  router.route({
    method: 'PUT', path: '/api/rules/:file', summary: 'save a rule file (checked first); the stream hot-reloads it',
    body: z.object({ text: z.string().max(200_000) }).strict(), response: checkSchema.extend({ file: z.string() }),
    handler: async ({ params, body }) => {
      const f = file(params.file);
      const checked = checkEpl(body.text, params.file);
      if (!checked.ok) throw new HttpError(400, `body.text: ${checked.error!.full}`);
      fs.mkdirSync(dir, { recursive: true });
      const tmp = path.join(dir, `.${params.file}.tmp-${process.pid}`);
      fs.writeFileSync(tmp, body.text);
      fs.renameSync(tmp, f);
      return { file: params.file, ...checked };
    },
  });
}
