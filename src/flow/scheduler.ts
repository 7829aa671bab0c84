/**
 * The scheduler: each workflow with a `schedule` (cron, machine local time) runs when it comes due,
 * for the working day before the day it fires on. One run at a time per workflow.
 */
import { CronExpressionParser } from 'cron-parser';
import { localDate8, createLogger, errorMessage } from '../core/index.ts';
import type { TableStore } from '../table/index.ts';
import { loadWorkflows, SHIPPED_WORKFLOWS, type Workflow } from './workflow.ts';
import { runWorkflow, type RunRecord } from './runner.ts';

const log = createLogger('scheduler');

export interface Scheduler {
  stop(): Promise<void>;
  runNow(name: string, day: string): Promise<RunRecord>;
  /** Next fire time of each scheduled workflow. */
  next(): { workflow: string; at: Date }[];
}

export function yesterday(now: Date): string {
  const d = new Date(now);
  d.setDate(d.getDate() - 1);
  return localDate8(d);
}

export async function startScheduler(opts: { dataDir: string; workflowsDir?: string; table?: TableStore; now?: () => Date }): Promise<Scheduler> {
  const now = opts.now ?? (() => new Date());
  const workflows = loadWorkflows([SHIPPED_WORKFLOWS, ...(opts.workflowsDir ? [opts.workflowsDir] : [])]);
  const timers = new Map<string, NodeJS.Timeout>();
  const nextAt = new Map<string, Date>();
  const running = new Map<string, Promise<RunRecord>>();
  let stopped = false;

  const run = (wf: Workflow, day: string, trigger: RunRecord['trigger']): Promise<RunRecord> => {
    const prev = running.get(wf.name) ?? Promise.resolve(undefined as unknown as RunRecord);
    const p = prev.catch(() => undefined).then(() => runWorkflow(wf, day, { dataDir: opts.dataDir, table: opts.table, trigger }));
    running.set(wf.name, p);
    return p;
  };

  const arm = (wf: Workflow) => {
    if (!wf.schedule || stopped) return;
    const at = CronExpressionParser.parse(wf.schedule, { currentDate: now() }).next().toDate();
    nextAt.set(wf.name, at);
    // Long waits are split: timers cannot exceed ~24.8 days, and the clock may be adjusted.
    const wait = Math.min(at.getTime() - now().getTime(), 60 * 60_000);
    timers.set(wf.name, setTimeout(() => {
      if (now().getTime() + 50 < at.getTime()) return arm(wf);
      const day = yesterday(at);
      run(wf, day, 'schedule').then(
        (r) => log.info({ workflow: wf.name, day, state: r.state }, 'scheduled run finished'),
        (err) => log.error({ workflow: wf.name, day, err: errorMessage(err) }, 'scheduled run failed'),
      ).finally(() => arm(wf));
    }, Math.max(0, wait)));
  };
  for (const wf of workflows.values()) arm(wf);

  return {
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      await Promise.allSettled([...running.values()]);
    },
    runNow(name, day) {
      const wf = workflows.get(name);
      if (!wf) return Promise.reject(new Error(`no workflow '${name}'`));
      return run(wf, day, 'manual');
    },
    next: () => [...nextAt].map(([workflow, at]) => ({ workflow, at })),
  };
}
