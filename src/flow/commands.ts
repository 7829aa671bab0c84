/** The `smartcar workflow …` commands. */
import fs from 'node:fs';
import { loadRootConfig, dataPaths, UserError, progressBar, onShutdown, formatDate8, parseDate8 } from '../core/index.ts';
import { openTableStore } from '../table/index.ts';
import type { TableStore } from '../table/index.ts';
import { loadWorkflows, SHIPPED_WORKFLOWS, type Workflow } from './workflow.ts';
import { interruptRun, readHistory, runWorkflow, type RunRecord } from './runner.ts';
import { startScheduler, yesterday } from './scheduler.ts';

interface Opts { data?: string; workflows?: string; config?: string }

function setup(o: Opts): { dataDir: string; workflows: Map<string, Workflow>; postgres?: string } {
  const cfg = loadRootConfig(o.config);
  const dataDir = o.data ?? cfg.dataDir;
  if (o.workflows && !fs.existsSync(o.workflows)) throw new UserError(`--workflows ${o.workflows} does not exist`);
  return { dataDir, workflows: loadWorkflows([SHIPPED_WORKFLOWS, ...(o.workflows ? [o.workflows] : [])]), postgres: cfg.postgres };
}

async function withTable<T>(dataDir: string, postgres: string | undefined, fn: (t?: TableStore) => Promise<T>): Promise<T> {
  const path = dataPaths(dataDir).table;
  const table = postgres ? await openTableStore({ kind: 'postgres', url: postgres, schema: process.env.SMARTCAR_POSTGRES_SCHEMA }) : fs.existsSync(path) ? await openTableStore({ kind: 'lmdb', path }) : undefined;
  try {
    return await fn(table);
  } finally {
    await table?.close();
  }
}

/** Ctrl-C / SIGTERM of a foreground run: recorded as interrupted, its partial output removed, exit 130. */
function interruptible(): void {
  const stop = (signal: NodeJS.Signals) => {
    const r = interruptRun(signal);
    process.stderr.write(`\n${r ? `${r.workflow} ${r.day} INTERRUPTED (${r.error}); recorded in the history, partial output removed` : 'interrupted'}\n`);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function pick(workflows: Map<string, Workflow>, name: string): Workflow {
  const wf = workflows.get(name);
  if (!wf) throw new UserError(`no workflow '${name}' (known: ${[...workflows.keys()].join(', ')})`);
  return wf;
}

function summary(r: RunRecord): string {
  const steps = r.steps.map((s) => `${s.id}:${s.state}${s.rows !== undefined ? `(${s.rows} rows)` : ''}${s.attempts > 1 ? `[${s.attempts} tries]` : ''}`).join(' ');
  return `${r.workflow} ${r.day} ${r.state.toUpperCase()} in ${(r.ms / 1000).toFixed(2)} s  ${steps}${r.error ? `\n  error: ${r.error}` : ''}`;
}

export async function listWorkflows(o: Opts): Promise<void> {
  const { workflows } = setup(o);
  for (const wf of workflows.values()) {
    process.stdout.write(`${wf.name.padEnd(16)} ${(wf.schedule ?? 'manual').padEnd(12)} ${wf.steps.map((s) => s.id).join(' → ')}\n  ${wf.description}\n`);
  }
}

export async function runOne(name: string, o: Opts & { day?: string }): Promise<number> {
  const { dataDir, workflows, postgres } = setup(o);
  const wf = pick(workflows, name);
  // A month (`--day 202003`, for the monthly buylist) is run as its first day: ${working_month} is that month.
  const day = o.day === undefined ? yesterday(new Date()) : /^\d{6}$/.test(o.day) ? `${o.day}01` : o.day;
  interruptible();
  const r = await withTable(dataDir, postgres, (table) => runWorkflow(wf, day, { dataDir, table, trigger: 'manual' }));
  process.stdout.write(summary(r) + '\n');
  return r.state === 'succeeded' ? 0 : 1;
}

export async function backfill(name: string, o: Opts & { from: string; to: string }): Promise<number> {
  const { dataDir, workflows, postgres } = setup(o);
  const wf = pick(workflows, name);
  const a = parseDate8(o.from), b = parseDate8(o.to);
  if (Number.isNaN(a) || Number.isNaN(b) || b < a) throw new UserError(`--from/--to must be yyyyMMdd days with from ≤ to, got ${o.from}..${o.to}`);
  const days: string[] = [];
  for (let t = a; t <= b; t += 86_400_000) days.push(formatDate8(t));
  const bar = progressBar(`backfill ${name}`, days.length, 'days');
  const failedRuns: RunRecord[] = [];
  interruptible();
  await withTable(dataDir, postgres, async (table) => {
    for (const day of days) {
      const r = await runWorkflow(wf, day, { dataDir, table, trigger: 'backfill' });
      if (r.state !== 'succeeded') failedRuns.push(r);
      bar.increment();
      if (!process.stderr.isTTY) process.stdout.write(summary(r) + '\n');
    }
  });
  bar.stop();
  const failed = failedRuns.length;
  process.stdout.write(`backfill ${name}: ${days.length - failed} succeeded, ${failed} failed\n`);
  // Which days failed and why, whether or not the per-day lines were shown.
  for (const r of failedRuns) process.stdout.write(`  ${r.day} failed: ${r.error ?? 'failed'}\n`);
  return failed ? 1 : 0;
}

export async function history(name: string | undefined, o: Opts & { limit: string; verbose?: boolean; json?: boolean }): Promise<void> {
  const { dataDir } = setup(o);
  const runs = readHistory(dataDir, name).slice(-Number(o.limit));
  if (runs.length === 0) {
    process.stdout.write(`no runs${name ? ` of ${name}` : ''} yet\n`);
    return;
  }
  for (const r of runs) {
    if (o.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      continue;
    }
    process.stdout.write(`${r.started}  ${r.trigger.padEnd(8)} ${summary(r)}\n`);
    if (o.verbose) for (const s of r.steps) for (const l of s.log) process.stdout.write(`    [${s.id}] ${l}\n`);
  }
}

export async function schedulerForeground(o: Opts & { metricsPort?: string }): Promise<void> {
  const { dataDir, postgres } = setup(o);
  const metricsPort = o.metricsPort === undefined ? undefined : Number(o.metricsPort);
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65535)) throw new UserError(`--metrics-port must be 0..65535, got '${o.metricsPort}'`);
  await withTable(dataDir, postgres, async (table) => {
    const s = await startScheduler({ dataDir, workflowsDir: o.workflows, table });
    for (const n of s.next()) process.stdout.write(`${n.workflow.padEnd(16)} next run ${n.at.toISOString()}\n`);
    if (metricsPort !== undefined) {
      const { serveStatus } = await import('../core/index.ts');
      const srv = await serveStatus({ port: metricsPort });
      process.stdout.write(`metrics listening ${srv.host}:${srv.port}\n`);
    }
    await new Promise<void>((resolve) => onShutdown(async () => { await s.stop(); resolve(); }));
  });
}
