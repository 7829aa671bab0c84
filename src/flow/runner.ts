/**
 * Runs a workflow for a working day: steps in dependency order (a failed step skips its dependents),
 * each with retries (exponential backoff) and a timeout. Every run is appended to the durable history
 * `<data>/state/flow/history.jsonl`: state, timings, row counts, quality checks, errors, each step's log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dataPaths, UserError, errorMessage, createLogger, counter } from '../core/index.ts';
import type { TableStore } from '../table/index.ts';
import { buildMartWith, compactStatusDay, copyDriveDay, lakePaths, MARTS, openCatalog, partitionKey, type Catalog, type QualityCheck } from '../sql/index.ts';
import { order, substitute, type Step, type Workflow } from './workflow.ts';

const log = createLogger('flow');
const runsTotal = counter('smartcar_flow_runs_total', 'Workflow runs by outcome', ['workflow', 'state']);

export interface StepRecord {
  id: string;
  type: string;
  state: 'succeeded' | 'failed' | 'skipped';
  attempts: number;
  started?: string;
  ended?: string;
  ms?: number;
  rows?: number;
  checks?: QualityCheck[];
  error?: string;
  log: string[];
}

export interface RunRecord {
  id: string;
  workflow: string;
  day: string;
  trigger: 'manual' | 'schedule' | 'backfill';
  state: 'succeeded' | 'failed' | 'interrupted';
  started: string;
  ended: string;
  ms: number;
  steps: StepRecord[];
  error?: string;
}

export function historyFile(dataDir: string): string {
  return path.join(dataPaths(dataDir).state, 'flow', 'history.jsonl');
}

export function readHistory(dataDir: string, workflow?: string): RunRecord[] {
  const f = historyFile(dataDir);
  if (!fs.existsSync(f)) return [];
  const out: RunRecord[] = [];
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      const r = JSON.parse(line) as RunRecord;
      if (!workflow || r.workflow === workflow) out.push(r);
    } catch {
      // A torn last line after a crash: skipped, the rest is intact.
    }
  }
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms))),
  ]);
}

function runShell(command: string, day: string, timeoutMs: number, logLines: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', command], { cwd, env: { ...process.env, WORKING_DAY: day, WORKING_MONTH: day.slice(0, 6) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (b: Buffer) => logLines.push(...b.toString('utf8').split('\n').filter(Boolean).map((l) => l.slice(0, 2000)));
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`command timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`command exited with ${signal ? `signal ${signal}` : `code ${code}`}`));
    });
  });
}

export interface RunOptions {
  dataDir: string;
  table?: TableStore;
  trigger?: RunRecord['trigger'];
}

/**
 * Why a status day has no rows, for the error: its lake files are still open (the agent closes one at its
 * roll size, after 100 s without new lines, or when it stops), or no file was collected on that day —
 * partitions are by processing date (SEED §3), not by the records' own dates.
 */
function whyNoStatus(dataDir: string, day: string): string {
  const dir = lakePaths(dataPaths(dataDir).lake).status;
  const files = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
  const open = files(path.join(dir, `wrk_date=${day}`)).filter((f) => f.startsWith('.') || f.endsWith('.tmp'));
  if (open.length) {
    return `its ${open.length} lake file(s) are still being written by the collection agent, which closes a file at its roll size, after 100 s without new lines, or when it stops; run the workflow again then`;
  }
  const days = files(dir).map((f) => /^wrk_date=(\d{8})$/.exec(f)?.[1]).filter((d): d is string => d !== undefined).sort();
  return `nothing was collected on that day (lake partitions are by the day the agent collected a file, not by the records' own dates); ${days.length ? `collected days: ${days.slice(-10).join(', ')}` : 'nothing is collected yet: drop a status file into <data>/spool/car-batch-log with the agent or smartcar up running'}`;
}

async function runStep(step: Step, day: string, cat: Catalog, o: RunOptions, rec: StepRecord, wf: Workflow): Promise<void> {
  const warehouse = lakePaths(dataPaths(o.dataDir).lake).warehouse;
  switch (step.type) {
    case 'partition': {
      const value = substitute(step.value, day);
      const tables = await cat.tables();
      const n = tables.includes(step.table.toLowerCase())
        ? Number((await cat.query(`SELECT count(*) FROM ${step.table} WHERE ${step.column} = '${value.replace(/'/g, "''")}'`)).rows[0][0])
        : 0;
      rec.rows = n;
      rec.log.push(`${step.table} ${step.column}=${value}: ${n} rows`);
      if (n === 0) throw new UserError(`no data in ${step.table} for ${step.column}=${value}: ${step.table.toLowerCase() === 'smartcar_status_info' ? whyNoStatus(o.dataDir, value) : "the day's partition is missing or empty"}`);
      return;
    }
    case 'mart': {
      const r = await buildMartWith(cat, step.mart, day, warehouse);
      rec.rows = r.rows;
      rec.checks = r.checks;
      rec.log.push(`${r.table} ${r.partition}: ${r.rows} rows from ${r.sourceRows} source rows in ${Math.round(r.ms)} ms`);
      for (const c of r.checks) rec.log.push(`check ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
      return;
    }
    case 'compact-status': {
      const r = await compactStatusDay(cat, lakePaths(dataPaths(o.dataDir).lake), day);
      rec.rows = r.rows;
      rec.log.push(r.skipped ? `already compacted: ${r.rows} rows from ${r.files} file(s)` : `compacted ${r.files} raw file(s) into ${r.rows} rows of Parquet`);
      return;
    }
    case 'copy-drive': {
      if (!o.table) throw new UserError('copy-drive needs the table store (DriverCarInfo), but none is open');
      const r = await copyDriveDay(day, { dataDir: o.dataDir, table: o.table });
      rec.rows = r.rows;
      rec.log.push(`copied ${r.rows} rows of ${day} to ${r.file}`);
      return;
    }
    case 'sql': {
      const text = step.sql ?? fs.readFileSync(path.resolve(path.dirname(wf.file), step.file!), 'utf8');
      for (const stmt of substitute(text, day).split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter(Boolean)) {
        await cat.exec(stmt);
        rec.log.push(`ran: ${stmt.slice(0, 200)}`);
      }
      return;
    }
    case 'export': {
      const { exportUrl, exportSymptomDay, exportTable } = await import('../export/index.ts');
      const to = exportUrl();
      if (!to) {
        rec.log.push('no PostgreSQL URL configured (SMARTCAR_EXPORT_URL): nothing exported');
        return;
      }
      const { table, partition } = MARTS[step.mart];
      const key = partitionKey(step.mart, day);
      const r = await (step.mart === 'symptom'
        ? exportSymptomDay({ dataDir: o.dataDir, day: key, to, target: step.target })
        : exportTable({ dataDir: o.dataDir, table, where: `${partition} = '${key}'`, to, target: step.target ?? table.replace(/^managed_/, ''), mode: 'replace-partition', key: [partition] })
      ).catch((e: unknown) => {
        // An unreachable server may come back: retried like any runtime failure.
        throw e instanceof UserError && (e as { transient?: boolean }).transient ? new Error(e.message) : e;
      });
      rec.rows = r.rows;
      rec.log.push(`exported ${r.rows} rows of ${partition}=${key} into ${r.target}${r.deleted ? `, replacing ${r.deleted}` : ''} in ${Math.round(r.ms)} ms`);
        return;
      }
    case 'ml': {
      const { runAnalysisTask } = await import('../ml/index.ts');
      const r = await runAnalysisTask(step.task, day, o.dataDir);
      rec.rows = r.rows;
      rec.log.push(r.log);
      return;
    }
    case 'shell':
      return runShell(substitute(step.command, day), day, step.timeoutMs, rec.log, path.dirname(wf.file));
  }
}

export async function runWorkflow(wf: Workflow, day: string, o: RunOptions): Promise<RunRecord> {
  if (!/^\d{8}$/.test(day)) throw new UserError(`--day must be yyyyMMdd, got '${day}'`);
  const t0 = Date.now();
  const run: RunRecord = {
    id: randomUUID(), workflow: wf.name, day, trigger: o.trigger ?? 'manual', state: 'succeeded',
    started: new Date(t0).toISOString(), ended: '', ms: 0, steps: [],
  };
  active = { run, dataDir: o.dataDir, t0 };
  const cat = await openCatalog({ dataDir: o.dataDir, table: o.table });
  const failed = new Set<string>();
  try {
    for (const step of order(wf)) {
      const rec: StepRecord = { id: step.id, type: step.type, state: 'succeeded', attempts: 0, log: [] };
      run.steps.push(rec);
      if (step.dependsOn.some((d) => failed.has(d))) {
        rec.state = 'skipped';
        rec.log.push(`skipped: depends on a failed step (${step.dependsOn.filter((d) => failed.has(d)).join(', ')})`);
        failed.add(step.id);
        continue;
      }
      const s0 = Date.now();
      rec.started = new Date(s0).toISOString();
      for (;;) {
        rec.attempts++;
        try {
          await withTimeout(runStep(step, day, cat, o, rec, wf), step.timeoutMs, `step ${step.id}`);
          rec.error = undefined;
          break;
        } catch (err) {
          rec.error = errorMessage(err);
          rec.log.push(`attempt ${rec.attempts} failed: ${rec.error}`);
          // A missing partition or a failed quality check will not fix itself by retrying now.
          const final = err instanceof UserError || rec.attempts > step.retries;
          if (final) {
            rec.state = 'failed';
            failed.add(step.id);
            break;
          }
          const wait = step.backoffMs * 2 ** (rec.attempts - 1);
          rec.log.push(`retrying in ${wait} ms`);
          await new Promise((r) => setTimeout(r, wait));
        }
      }
      rec.ended = new Date().toISOString();
      rec.ms = Date.now() - s0;
    }
  } finally {
    await cat.close();
  }
  if (failed.size) {
    run.state = 'failed';
    const first = run.steps.find((s) => s.state === 'failed');
    run.error = first ? `step ${first.id}: ${first.error}` : 'failed';
  }
  active = undefined;
  run.ended = new Date().toISOString();
  run.ms = Date.now() - t0;
  const file = historyFile(o.dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(run) + '\n');
  runsTotal.inc({ workflow: wf.name, state: run.state });
  log.info({ workflow: wf.name, day, state: run.state, ms: run.ms, error: run.error }, 'workflow run');
  return run;
}

let active: { run: RunRecord; dataDir: string; t0: number } | undefined;

/**
 * Ctrl-C during a run: the run in progress goes into the history as `interrupted` (with the steps it
 * got to), and the partitions this process was writing (`.<name>.tmp-<pid>-…`, `.drive.csv.tmp-<pid>`)
 * are removed; the published partitions were never touched (they are swapped in only when complete).
 */
export function interruptRun(signal: string): RunRecord | undefined {
  const a = active;
  active = undefined;
  if (!a) return undefined;
  const { run } = a;
  run.state = 'interrupted';
  const cur = run.steps.find((s) => !s.ended && s.state === 'succeeded' && s.started);
  if (cur) { cur.state = 'failed'; cur.error = `interrupted by ${signal}`; cur.ended = new Date().toISOString(); }
  run.error = `interrupted by ${signal}${cur ? ` during step ${cur.id}` : ''}`;
  run.ended = new Date().toISOString();
  run.ms = Date.now() - a.t0;
  removeDebris(dataPaths(a.dataDir).lake);
  const file = historyFile(a.dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(run) + '\n');
  return run;
}

function removeDebris(dir: string, depth = 0): void {
  if (depth > 4 || !fs.existsSync(dir)) return;
  const mine = new RegExp(`\\.tmp-${process.pid}(-|$)`);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (mine.test(e.name)) fs.rmSync(p, { recursive: true, force: true });
    else if (e.isDirectory()) removeDebris(p, depth + 1);
  }
}
