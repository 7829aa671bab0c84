/**
 * Workflow definitions (the Oozie role): JSON files, one workflow each, in `workflows/` (shipped) or a
 * directory of the user's. Parameters `${working_day}` (yyyyMMdd) and `${working_month}` (yyyyMM) are
 * substituted into step fields; a scheduled run's working day is the day before it fires.
 *
 *   { "name": "status", "schedule": "0 1 * * *", "description": "…",
 *     "steps": [
 *       { "id": "partition", "type": "partition", "table": "smartcar_status_info", "column": "wrk_date", "value": "${working_day}" },
 *       { "id": "mart", "type": "mart", "mart": "status", "dependsOn": ["partition"], "retries": 2, "timeoutMs": 600000 } ] }
 *
 * Step types: `partition` (the day's data is present: registers it for the run and fails clearly when it
 * is missing), `mart` (builds a data mart with its quality checks), `copy-drive` (table store → lake
 * copy of the day's driving rows), `compact-status` (the day's raw status text → Parquet), `sql` (statements from `sql` or a `file`), `shell` (a command),
 * `ml` (an analysis of src/ml: `recommend` for the working month, `classify-score` for the working day).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CronExpressionParser } from 'cron-parser';
import { UserError, describeIssues, shippedPath } from '../core/index.ts';
import { MARTS } from '../sql/index.ts';

export const SHIPPED_WORKFLOWS = shippedPath('workflows');

const base = {
  id: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'),
  dependsOn: z.array(z.string()).default([]),
  retries: z.number().int().min(0).max(10).default(0),
  backoffMs: z.number().int().min(0).default(1000),
  timeoutMs: z.number().int().min(1).default(600_000),
};

export const stepSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('partition'), table: z.string(), column: z.string(), value: z.string() }).strict(),
  z.object({ ...base, type: z.literal('mart'), mart: z.enum(Object.keys(MARTS) as [keyof typeof MARTS, ...(keyof typeof MARTS)[]]) }).strict(),
  z.object({ ...base, type: z.literal('copy-drive') }).strict(),
  z.object({ ...base, type: z.literal('compact-status') }).strict(),
  z.object({ ...base, type: z.literal('sql'), sql: z.string().optional(), file: z.string().optional() }).strict()
    .refine((s) => !!s.sql !== !!s.file, 'give exactly one of sql or file'),
  z.object({ ...base, type: z.literal('shell'), command: z.string() }).strict(),
  // The day's mart into PostgreSQL (the Sqoop role) when SMARTCAR_EXPORT_URL is set; skipped otherwise.
  z.object({ ...base, type: z.literal('export'), mart: z.enum(Object.keys(MARTS) as [keyof typeof MARTS, ...(keyof typeof MARTS)[]]), target: z.string().optional() }).strict(),
  z.object({ ...base, type: z.literal('ml'), task: z.enum(['recommend', 'classify-score']) }).strict(),
]);

export const workflowSchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and - only'),
  description: z.string().default(''),
  schedule: z.string().refine((s) => {
    try {
      CronExpressionParser.parse(s);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid cron expression (minute hour day-of-month month day-of-week)').optional(),
  steps: z.array(stepSchema).min(1),
}).strict();

export type Step = z.infer<typeof stepSchema>;
export type Workflow = z.infer<typeof workflowSchema> & { file: string };

export function parseWorkflow(text: string, file: string): Workflow {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const r = workflowSchema.safeParse(raw);
  if (!r.success) throw new UserError(describeIssues(file, r.error));
  const wf = { ...r.data, file };
  const ids = new Set<string>();
  for (const s of wf.steps) {
    if (ids.has(s.id)) throw new UserError(`${file}: two steps are named '${s.id}'`);
    ids.add(s.id);
  }
  for (const s of wf.steps) for (const d of s.dependsOn) if (!ids.has(d)) throw new UserError(`${file}: step '${s.id}' depends on unknown step '${d}'`);
  order(wf);
  return wf;
}

/** Steps in dependency order; throws on a cycle. */
export function order(wf: { steps: Step[]; file?: string }): Step[] {
  const done = new Set<string>();
  const out: Step[] = [];
  const visiting = new Set<string>();
  const byId = new Map(wf.steps.map((s) => [s.id, s]));
  const visit = (s: Step) => {
    if (done.has(s.id)) return;
    if (visiting.has(s.id)) throw new UserError(`${wf.file ?? 'workflow'}: steps depend on each other in a cycle through '${s.id}'`);
    visiting.add(s.id);
    for (const d of s.dependsOn) visit(byId.get(d)!);
    visiting.delete(s.id);
    done.add(s.id);
    out.push(s);
  };
  for (const s of wf.steps) visit(s);
  return out;
}

export function loadWorkflows(dirs: string[]): Map<string, Workflow> {
  const out = new Map<string, Workflow>();
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
      const file = path.join(dir, f);
      const wf = parseWorkflow(fs.readFileSync(file, 'utf8'), file);
      out.set(wf.name, wf); // a user's workflow of the same name replaces the shipped one
    }
  }
  return out;
}

export function substitute(text: string, day: string): string {
  return text.replaceAll('${working_day}', day).replaceAll('${working_month}', day.slice(0, 6));
}
