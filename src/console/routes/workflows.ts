/**
 * Workflows (the Oozie editor in Hue): the workflows with their schedule and next run, run history, run
 * now and backfill — the same flow functions `smartcar workflow run|backfill|history` call, so a run
 * started here is in `smartcar workflow history`.
 *
 *   GET  /api/workflows                                 [{name, description, schedule, next, steps, last}]
 *   GET  /api/workflows/history?name=&limit=50          newest first, with each step's log
 *   POST /api/workflows/:name/run       {"day": "20240101"}                 (token) → a job
 *   POST /api/workflows/:name/backfill  {"from": "…", "to": "…"}            (token) → a job
 *   GET  /api/workflows/jobs/:id                        progress: done/total, each run's outcome
 */
import crypto from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { HttpError, type Router, errorMessage, formatDate8, parseDate8 } from '../../core/index.ts';
import { loadWorkflows, readHistory, runWorkflow, SHIPPED_WORKFLOWS, yesterday, type RunRecord, type Workflow } from '../../flow/index.ts';
import type { ConsoleContext } from '../context.ts';

const day8 = z.string().regex(/^\d{8}$/, 'a day as yyyyMMdd').refine((d) => !Number.isNaN(parseDate8(d)), 'not a calendar day');

interface Job {
  id: string; workflow: string; kind: 'run' | 'backfill'; days: string[]; done: number; failed: number;
  state: 'running' | 'succeeded' | 'failed'; started: number; ended?: number; current?: string;
  runs: { day: string; state: string; ms: number; id: string; error?: string }[]; error?: string;
}

const jobSchema = z.object({
  id: z.string(), workflow: z.string(), kind: z.enum(['run', 'backfill']), days: z.array(z.string()), done: z.number(), failed: z.number(),
  state: z.enum(['running', 'succeeded', 'failed']), started: z.number(), ended: z.number().optional(), current: z.string().optional(),
  runs: z.array(z.object({ day: z.string(), state: z.string(), ms: z.number(), id: z.string(), error: z.string().optional() })), error: z.string().optional(),
});

const stepSchema = z.object({
  id: z.string(), type: z.string(), state: z.string(), attempts: z.number(), ms: z.number().optional(), rows: z.number().optional(),
  error: z.string().optional(), log: z.array(z.string()),
});
const runSchema = z.object({
  id: z.string(), workflow: z.string(), day: z.string(), trigger: z.string(), state: z.string(), started: z.string(), ended: z.string(),
  ms: z.number(), error: z.string().optional(), steps: z.array(stepSchema), rows: z.number(),
});

const rowsOf = (r: RunRecord) => r.steps.filter((s) => s.type === 'mart' || s.type === 'copy-drive').reduce((s, x) => s + (x.rows ?? 0), 0);

export function workflowRoutes(router: Router, ctx: ConsoleContext): void {
  const jobs = new Map<string, Job>();
  const workflows = (): Map<string, Workflow> => loadWorkflows([SHIPPED_WORKFLOWS]);
  const pick = (name: string) => {
    const wf = workflows().get(name);
    if (!wf) throw new HttpError(404, `no workflow '${name}' (known: ${[...workflows().keys()].join(', ')})`);
    return wf;
  };

  const startJob = (wf: Workflow, days: string[], kind: Job['kind']): Job => {
    const job: Job = { id: crypto.randomBytes(8).toString('hex'), workflow: wf.name, kind, days, done: 0, failed: 0, state: 'running', started: Date.now(), runs: [] };
    jobs.set(job.id, job);
    if (jobs.size > 100) jobs.delete(jobs.keys().next().value!);
    void (async () => {
      try {
        const table = await ctx.tableStore();
        for (const day of days) {
          job.current = day;
          const r = await runWorkflow(wf, day, { dataDir: ctx.root, table, trigger: kind === 'run' ? 'manual' : 'backfill' });
          job.runs.push({ day, state: r.state, ms: r.ms, id: r.id, error: r.error });
          job.done++;
          if (r.state !== 'succeeded') job.failed++;
        }
        job.state = job.failed ? 'failed' : 'succeeded';
      } catch (err) {
        job.state = 'failed';
        job.error = errorMessage(err);
      } finally {
        job.current = undefined;
        job.ended = Date.now();
      }
    })();
    return job;
  };

  router.route({
    method: 'GET', path: '/api/workflows', summary: 'workflows with schedule, next run and last run',
    response: z.array(z.object({
      name: z.string(), description: z.string(), schedule: z.string().nullable(), next: z.string().nullable(),
      steps: z.array(z.object({ id: z.string(), type: z.string(), dependsOn: z.array(z.string()) })),
      last: z.object({ day: z.string(), state: z.string(), started: z.string(), ms: z.number() }).nullable(),
    })),
    handler: async () => {
      const history = readHistory(ctx.root);
      return [...workflows().values()].map((wf) => {
        const last = history.filter((r) => r.workflow === wf.name).at(-1);
        return {
          name: wf.name, description: wf.description, schedule: wf.schedule ?? null,
          next: wf.schedule ? CronExpressionParser.parse(wf.schedule, { currentDate: new Date() }).next().toDate().toISOString() : null,
          steps: wf.steps.map((s) => ({ id: s.id, type: s.type, dependsOn: s.dependsOn })),
          last: last ? { day: last.day, state: last.state, started: last.started, ms: last.ms } : null,
        };
      });
    },
  });

  router.route({
    method: 'GET', path: '/api/workflows/history', summary: 'past runs, newest first',
    query: z.object({ name: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(50) }),
    response: z.array(runSchema),
    handler: async ({ query }) => readHistory(ctx.root, query.name || undefined).slice(-query.limit).reverse()
      .map((r) => ({ ...r, rows: rowsOf(r), steps: r.steps.map((s) => ({ id: s.id, type: s.type, state: s.state, attempts: s.attempts, ms: s.ms, rows: s.rows, error: s.error, log: s.log })) })),
  });

  router.route({
    method: 'POST', path: '/api/workflows/:name/run', summary: 'run a workflow for one day',
    body: z.object({ day: day8.optional() }).strict().default({}), response: jobSchema,
    handler: async ({ params, body }) => startJob(pick(params.name), [body.day ?? yesterday(new Date())], 'run'),
  });

  router.route({
    method: 'POST', path: '/api/workflows/:name/backfill', summary: 'run a workflow for every day of a range',
    body: z.object({ from: day8, to: day8 }).strict().refine((b) => b.from <= b.to, { message: 'from must not be after to', path: ['to'] })
      .refine((b) => (parseDate8(b.to) - parseDate8(b.from)) / 86_400_000 < 366, { message: 'at most 366 days at once', path: ['to'] }),
    response: jobSchema,
    handler: async ({ params, body }) => {
      const wf = pick(params.name);
      const days: string[] = [];
      for (let t = parseDate8(body.from); t <= parseDate8(body.to); t += 86_400_000) days.push(formatDate8(t));
      return startJob(wf, days, 'backfill');
    },
  });

  router.route({
    method: 'GET', path: '/api/workflows/jobs/:id', summary: 'progress of a run or backfill started here', response: jobSchema,
    handler: async ({ params }) => {
      const j = jobs.get(params.id);
      if (!j) throw new HttpError(404, `no job '${params.id}' (jobs live in the console's memory)`);
      return j;
    },
  });
}
