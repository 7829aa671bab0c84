/**
 * A small process supervisor: each component is a child process (`node bin/smartcar.js <command>`),
 * started in dependency order, each one waiting until the components it depends on are ready.
 *
 * Readiness is read from the child's stdout: every long-running command prints
 * `metrics listening 127.0.0.1:<port>` when its /metrics + /health endpoint is up (`--metrics-port 0`),
 * and may print further lines a spec waits for (the broker's `listening host:port`).
 *
 * A child that exits while the platform runs is restarted after an exponential backoff
 * (base · 2^(crashes in a row), capped), logged and counted in `smartcar_platform_restarts_total`.
 * A child that stayed up longer than `stableMs` starts the sequence over. Stopping goes in reverse
 * start order: SIGTERM, then SIGKILL after the component's grace period.
 *
 * Children get their own process group, so the terminal's Ctrl-C reaches only the supervisor, which
 * then stops them in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { counter, gauge, createLogger, shippedPath } from '../core/index.ts';

const log = createLogger('platform');

/** bin/smartcar.js of this package. */
export const SMARTCAR_BIN = shippedPath('bin', 'smartcar.js');

const METRICS_LINE = /^metrics listening (\S+):(\d+)\s*$/;

const restartsTotal = counter('smartcar_platform_restarts_total', 'Component restarts after an unexpected exit', ['component']);
const upGauge = gauge('smartcar_platform_component_up', '1 when the component process is running and ready', ['component']);

export interface ComponentSpec {
  name: string;
  /** Arguments after `smartcar`, evaluated at every (re)start so they can use what earlier components printed. */
  args: () => string[];
  /** Components that must be ready first (by name). */
  dependsOn?: string[];
  /** Extra stdout lines to wait for; the first capture group of each is kept in `captures[name]`. */
  ready?: Record<string, RegExp>;
  /** Whether the child serves /metrics and /health (it then gets `--metrics-port 0`). Default true. */
  metrics?: boolean;
  /** Called each time the component gets ready. */
  onReady?: (c: ComponentState) => void;
  /** What the banner says about it: address or role. */
  describe?: (c: ComponentState) => string;
  /** Grace period between SIGTERM and SIGKILL (default 20 s). */
  stopTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export type ComponentPhase = 'starting' | 'up' | 'restarting' | 'stopped' | 'failed';

export interface ComponentState {
  name: string;
  phase: ComponentPhase;
  pid?: number;
  restarts: number;
  /** Wall time of the current process's start. */
  since?: number;
  /** The child's own /metrics + /health address, `127.0.0.1:port`. */
  metricsAddress?: string;
  captures: Record<string, string>;
  lastExit?: { code: number | null; signal: string | null; at: number };
  /** Where the child's stdout and stderr go. */
  logFile: string;
}

export interface SupervisorOptions {
  /** Directory of the children's log files (`<name>.log`). */
  logDir: string;
  /** First restart delay (default 500 ms); doubles per crash in a row up to `backoffMaxMs` (default 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A child that ran this long is considered stable again (default 60 s). */
  stableMs?: number;
  /** How long a child may take to print its ready lines (default 60 s). */
  readyTimeoutMs?: number;
  /** Told about every start, exit and restart (the CLI prints them). */
  onEvent?: (e: SupervisorEvent) => void;
  /** `process.execPath` and bin/smartcar.js by default; tests may run other scripts. */
  command?: { file: string; prefix: string[] };
}

export type SupervisorEvent =
  | { kind: 'started'; name: string; pid: number }
  | { kind: 'ready'; name: string; pid: number }
  | { kind: 'exited'; name: string; pid: number; code: number | null; signal: string | null }
  | { kind: 'restarting'; name: string; delayMs: number; restarts: number }
  | { kind: 'stopped'; name: string };

interface Running {
  spec: ComponentSpec;
  state: ComponentState;
  child?: ChildProcess;
  crashesInRow: number;
  ready?: Promise<void>;
  exited?: Promise<void>;
  timer?: NodeJS.Timeout;
  /** Set while an operator's restart is under way: the exit it causes is not a crash. */
  requested?: boolean;
}

export class Supervisor {
  private readonly comps = new Map<string, Running>();
  private readonly order: string[] = [];
  private stopping = false;
  private readonly base: number;
  private readonly max: number;
  private readonly stableMs: number;
  private readonly readyTimeoutMs: number;

  constructor(private readonly o: SupervisorOptions) {
    this.base = o.backoffBaseMs ?? 500;
    this.max = o.backoffMaxMs ?? 30_000;
    this.stableMs = o.stableMs ?? 60_000;
    this.readyTimeoutMs = o.readyTimeoutMs ?? 60_000;
    fs.mkdirSync(o.logDir, { recursive: true });
  }

  /** Starts every component in the given order, each after its dependencies are ready. */
  async start(specs: ComponentSpec[]): Promise<void> {
    for (const spec of specs) {
      if (this.comps.has(spec.name)) throw new Error(`component ${spec.name} given twice`);
      for (const d of spec.dependsOn ?? []) if (!this.comps.has(d)) throw new Error(`component ${spec.name} depends on ${d}, which is not started before it`);
      const r: Running = {
        spec,
        crashesInRow: 0,
        state: { name: spec.name, phase: 'starting', restarts: 0, captures: {}, logFile: path.join(this.o.logDir, `${spec.name}.log`) },
      };
      this.comps.set(spec.name, r);
      this.order.push(spec.name);
    }
    for (const name of this.order) {
      const r = this.comps.get(name)!;
      if (r.child || this.stopping) continue;
      for (const d of r.spec.dependsOn ?? []) await this.comps.get(d)!.ready;
      if (this.stopping) return;
      this.spawn(r);
      await r.ready;
    }
  }

  states(): ComponentState[] {
    return this.order.map((n) => ({ ...this.comps.get(n)!.state }));
  }

  state(name: string): ComponentState | undefined {
    const r = this.comps.get(name);
    return r && { ...r.state };
  }

  /** Stops every component in reverse start order. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const name of [...this.order].reverse()) await this.stopOne(this.comps.get(name)!);
  }

  /**
   * An operator's restart (the console's button): stops the component cleanly (SIGTERM, then SIGKILL after its
   * grace) and starts it again at once. It counts as a restart, not as a crash: no backoff, and the crash streak
   * that sets the backoff is left as it was.
   */
  async restart(name: string): Promise<void> {
    const r = this.comps.get(name);
    if (!r) throw new Error(`no component named ${name} (components: ${this.order.join(', ')})`);
    if (this.stopping) throw new Error('the platform is stopping');
    if (r.requested) return;
    r.requested = true;
    r.state.phase = 'restarting';
    try {
      await this.terminate(r);
      if (this.stopping) return;
      r.state.restarts++;
      restartsTotal.inc({ component: r.spec.name });
      log.info({ component: r.spec.name, restarts: r.state.restarts }, 'restarted on request');
      this.o.onEvent?.({ kind: 'restarting', name: r.spec.name, delayMs: 0, restarts: r.state.restarts });
      this.spawn(r);
    } finally {
      r.requested = false;
    }
  }

  /** Kills every child at once (a second Ctrl-C). */
  kill(): void {
    this.stopping = true;
    for (const r of this.comps.values()) {
      clearTimeout(r.timer);
      r.child?.kill('SIGKILL');
    }
  }

  /** SIGTERM, then SIGKILL after the component's grace; resolves once the child has exited. */
  private async terminate(r: Running): Promise<void> {
    clearTimeout(r.timer);
    const child = r.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const grace = r.spec.stopTimeoutMs ?? 20_000;
    const t = setTimeout(() => {
      log.warn({ component: r.spec.name, pid: child.pid, graceMs: grace }, 'did not stop in time: killing');
      child.kill('SIGKILL');
    }, grace);
    await r.exited;
    clearTimeout(t);
  }

  private async stopOne(r: Running): Promise<void> {
    await this.terminate(r);
    r.state.phase = 'stopped';
    upGauge.set({ component: r.spec.name }, 0);
    this.o.onEvent?.({ kind: 'stopped', name: r.spec.name });
  }

  private spawn(r: Running): void {
    const { spec, state } = r;
    const cmd = this.o.command ?? { file: process.execPath, prefix: [SMARTCAR_BIN] };
    const args = [...cmd.prefix, ...spec.args(), ...(spec.metrics === false ? [] : ['--metrics-port', '0'])];
    const out = fs.openSync(state.logFile, 'a');
    const logStart = fs.fstatSync(out).size;
    const child = spawn(cmd.file, args, {
      // stdin: a pipe only this process writes to; the child stops when it closes (this process died).
      stdio: ['pipe', 'pipe', out],
      detached: true,
      env: { ...process.env, SMARTCAR_COMPONENT: spec.name, SMARTCAR_SUPERVISOR_PID: String(process.pid), SMARTCAR_SUPERVISOR_STDIN: '1', ...spec.env },
    });
    fs.closeSync(out);
    child.stdin?.on('error', () => {}); // EPIPE once the child is gone
    r.child = child;
    state.phase = 'starting';
    state.pid = child.pid;
    state.since = Date.now();
    state.metricsAddress = undefined;
    state.captures = {};
    this.o.onEvent?.({ kind: 'started', name: spec.name, pid: child.pid ?? -1 });
    log.info({ component: spec.name, pid: child.pid, args }, 'started');

    const waiting = new Map(Object.entries(spec.ready ?? {}));
    if (spec.metrics !== false) waiting.set('metrics', METRICS_LINE);
    const logStream = fs.createWriteStream(state.logFile, { flags: 'a' });
    // A full disk loses log lines, never the supervisor.
    logStream.on('error', (err) => log.warn({ component: spec.name, file: state.logFile, err: err.message }, 'cannot write the component\'s log'));
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => { markReady = resolve; failReady = reject; });
    // Only the first start's readiness gates dependents; a restart that never gets ready shows as down.
    if (!r.ready) r.ready = ready;
    ready.catch(() => {});
    let isReady = false;
    const check = () => {
      if (waiting.size || isReady) return;
      isReady = true;
      clearTimeout(readyTimer);
      state.phase = 'up';
      upGauge.set({ component: spec.name }, 1);
      spec.onReady?.(state);
      this.o.onEvent?.({ kind: 'ready', name: spec.name, pid: child.pid ?? -1 });
      markReady();
    };
    const readyTimer = setTimeout(() => {
      failReady(new Error(`${spec.name} did not get ready within ${this.readyTimeoutMs} ms (waiting for ${[...waiting.keys()].join(', ')}); see ${state.logFile}`));
      log.error({ component: spec.name, logFile: state.logFile }, 'not ready in time: restarting it');
      child.kill('SIGKILL');
    }, this.readyTimeoutMs);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      logStream.write(line + '\n');
      for (const [key, re] of waiting) {
        const m = re.exec(line);
        if (!m) continue;
        if (key === 'metrics') state.metricsAddress = `${m[1]}:${m[2]}`;
        else state.captures[key] = m[1] ?? line;
        waiting.delete(key);
      }
      check();
    });
    check();

    r.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        log.error({ component: spec.name, err: err.message }, 'could not start');
      });
      child.once('close', (code, signal) => {
        clearTimeout(readyTimer);
        logStream.end();
        upGauge.set({ component: spec.name }, 0);
        state.lastExit = { code, signal, at: Date.now() };
        state.pid = undefined;
        r.child = undefined;
        this.o.onEvent?.({ kind: 'exited', name: spec.name, pid: child.pid ?? -1, code, signal });
        const reason = firstErrorLine(state.logFile, logStart);
        failReady(Object.assign(new Error(`${spec.name} exited (${signal ?? `code ${code}`}) before it was ready${reason ? `: ${reason}` : ''}; see ${state.logFile}`), { childExitCode: code }));
        // A first start that fails before it is ready fails `start()` instead: no restart behind its back.
        if (!this.stopping && !r.requested && (isReady || r.ready !== ready)) this.scheduleRestart(r);
        resolve();
      });
    });
  }

  private scheduleRestart(r: Running): void {
    const ranMs = Date.now() - (r.state.since ?? Date.now());
    if (ranMs >= this.stableMs) r.crashesInRow = 0;
    const delayMs = Math.min(this.max, this.base * 2 ** r.crashesInRow);
    r.crashesInRow++;
    r.state.restarts++;
    r.state.phase = 'restarting';
    restartsTotal.inc({ component: r.spec.name });
    log.warn({ component: r.spec.name, exit: r.state.lastExit, delayMs, restarts: r.state.restarts }, 'exited unexpectedly: restarting after backoff');
    this.o.onEvent?.({ kind: 'restarting', name: r.spec.name, delayMs, restarts: r.state.restarts });
    r.timer = setTimeout(() => {
      if (!this.stopping) this.spawn(r);
    }, delayMs);
  }
}

/**
 * The reason a child gave for failing, from what it wrote to its log since `from`: its one-line
 * `smartcar: …` error, else the message of its first error-level JSON log line, else its first line
 * that names an Error.
 */
export function firstErrorLine(file: string, from: number): string | undefined {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(Math.max(0, size - from), 256 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, from);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const own = lines.find((l) => l.startsWith('smartcar: '));
  if (own) return own.slice('smartcar: '.length).trim();
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    try {
      const j = JSON.parse(l) as { level?: number; msg?: string; err?: unknown };
      if ((j.level ?? 0) >= 50) return [j.msg, typeof j.err === 'string' ? j.err.split('\n')[0] : undefined].filter(Boolean).join(': ');
    } catch {
      // Not JSON after all.
    }
  }
  return lines.find((l) => /\b\w*Error\b/.test(l))?.trim();
}
