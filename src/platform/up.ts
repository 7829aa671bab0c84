/**
 * `smartcar up`: the whole platform as one supervised process tree (components.ts), a lock on the
 * data directory (lock.ts), a startup banner, and an HTTP endpoint on 127.0.0.1:
 *
 *   GET /health   {"status":"ok"|"down","components":{name:{phase,pid,restarts,health…}}}; 503 when one is down
 *   GET /metrics  the supervisor's own metrics + every child's /metrics, merged (scrape.ts)
 *
 * Ctrl-C / SIGTERM stops the children in reverse start order and exits 0; a second one kills them all.
 */
import path from 'node:path';
import fs from 'node:fs';
import { loadRootConfigWithFlags, type ConfigFlags, logToFile, dataPaths, UserError, errorMessage, metricsText, listen, Router, statusRoutes, onShutdown, chooseBackends, describeBackend, isLoopback } from '../core/index.ts';
import { saslFromEnv } from '../kafka/index.ts';
import { agentFileExists, platformComponents, SHIPPED_AGENT_FILE } from './components.ts';
import { acquireLock, type PlatformLock } from './lock.ts';
import { httpGet, mergeMetrics } from './scrape.ts';
import { Supervisor, type ComponentState, type SupervisorEvent } from './supervisor.ts';
import type { FleetOptions } from './sim.ts';

export interface UpOptions extends FleetOptions, ConfigFlags {
  sim: boolean;
  port: number;
  brokerPort?: number;
  /** Address of the embedded broker (default: the config's broker.host, 127.0.0.1); non-loopback needs SMARTCAR_BROKER_PASSWORD. */
  brokerHost?: string;
  /** SQL server port (default 10000; any free port when --port is 0). */
  sqlPort?: number;
  /** Prediction service port, when a model exists (default 9001; any free port when --port is 0). */
  predictPort?: number;
  /** Restart backoff (tests shorten it). */
  backoffBaseMs?: number;
}

export interface ComponentHealth {
  phase: ComponentState['phase'];
  pid?: number;
  restarts: number;
  upSeconds?: number;
  metrics?: string;
  lastExit?: ComponentState['lastExit'];
  health?: unknown;
  error?: string;
}

export interface PlatformHealth {
  status: 'ok' | 'down';
  pid: number;
  data: string;
  components: Record<string, ComponentHealth>;
}

/** Health of every component: its phase in the supervisor and, when it is up, its own /health. */
export async function platformHealth(sup: Supervisor, data: string): Promise<PlatformHealth> {
  const states = sup.states();
  const components: Record<string, ComponentHealth> = {};
  let ok = true;
  await Promise.all(states.map(async (s) => {
    const h: ComponentHealth = { phase: s.phase, pid: s.pid, restarts: s.restarts, metrics: s.metricsAddress, lastExit: s.lastExit };
    if (s.since && s.phase === 'up') h.upSeconds = Math.round((Date.now() - s.since) / 1000);
    if (s.phase !== 'up') ok = false;
    else if (s.metricsAddress) {
      try {
        const r = await httpGet(s.metricsAddress, '/health', 1500);
        h.health = JSON.parse(r.body);
        if (r.status !== 200) {
          ok = false;
          h.error = `its /health answered ${r.status}`;
        }
      } catch (err) {
        ok = false;
        h.error = `its /health did not answer: ${errorMessage(err)}`;
      }
    }
    components[s.name] = h;
  }));
  // In start order, whatever order the answers came in.
  const ordered = Object.fromEntries(states.map((s) => [s.name, components[s.name]]));
  return { status: ok ? 'ok' : 'down', pid: process.pid, data, components: ordered };
}

/** The supervisor's registry followed by every running child's, merged into one exposition. */
export async function platformMetrics(sup: Supervisor): Promise<string> {
  const sources = [{ component: 'platform', text: await metricsText() }];
  const scraped = await Promise.all(sup.states().map(async (s) => {
    if (!s.metricsAddress || s.phase !== 'up') return undefined;
    try {
      const r = await httpGet(s.metricsAddress, '/metrics', 1500);
      return r.status === 200 ? { component: s.name, text: r.body } : undefined;
    } catch {
      return undefined; // A child that does not answer right now is missing from this scrape (and down in /health).
    }
  }));
  for (const s of scraped) if (s) sources.push(s);
  return mergeMetrics(sources);
}

export interface PlatformServer {
  port: number;
  close(): Promise<void>;
}

/** The supervisor's routes: /health and /metrics now; the console mounts its own beside them. */
export function platformRouter(sup: Supervisor, data: string): Router {
  return statusRoutes(new Router(), () => platformHealth(sup, data), () => platformMetrics(sup));
}

export async function servePlatform(sup: Supervisor, data: string, port: number, router = platformRouter(sup, data), fallback?: Parameters<typeof listen>[0]['fallback']): Promise<PlatformServer> {
  const s = await listen({ port, router, portFlag: '--port', ref: true, fallback });
  return { port: s.port, close: () => s.close() };
}

function eventLine(e: SupervisorEvent): string | undefined {
  const t = new Date().toISOString().slice(11, 19);
  switch (e.kind) {
    case 'exited': return `${t} ${e.name} (pid ${e.pid}) exited with ${e.signal ?? `code ${e.code}`}`;
    case 'restarting': return `${t} ${e.name}: restart #${e.restarts} in ${e.delayMs} ms`;
    case 'ready': return `${t} ${e.name} ready (pid ${e.pid})`;
    case 'stopped': return `${t} ${e.name} stopped`;
    default: return undefined;
  }
}

export async function runUp(o: UpOptions): Promise<void> {
  const cfg = loadRootConfigWithFlags(o);
  const paths = dataPaths(cfg.dataDir);
  const brokerHost = o.brokerHost ?? cfg.broker.host;
  const sasl = saslFromEnv();
  if (!cfg.kafka && !isLoopback(brokerHost) && !sasl) {
    throw new UserError(`--broker-host ${brokerHost} would let other hosts reach the broker without credentials: set SMARTCAR_BROKER_PASSWORD (and SMARTCAR_BROKER_USER, default smartcar), or bind 127.0.0.1`);
  }

  const lock: PlatformLock = acquireLock(paths.state, (dead, killed) => {
    process.stderr.write(`took over a stale lock of pid ${dead.pid} (not running)${killed.length ? `; ended its leftover children ${killed.join(', ')}` : ''}\n`);
  });
  if (!agentFileExists()) {
    lock.release();
    throw new UserError(`the agent definition ${SHIPPED_AGENT_FILE} is missing; reinstall the package (npm ci)`);
  }
  // The supervisor's own JSON log goes beside its children's: the terminal shows only the lines below.
  fs.mkdirSync(path.join(paths.root, 'logs', 'platform'), { recursive: true });
  logToFile(path.join(paths.root, 'logs', 'platform', 'up.log'));
  const sup = new Supervisor({
    logDir: path.join(paths.root, 'logs', 'platform'),
    backoffBaseMs: o.backoffBaseMs,
    onEvent: (e) => {
      const children: Record<string, number> = {};
      for (const s of sup.states()) if (s.pid) children[s.name] = s.pid;
      lock.update({ children });
      const line = eventLine(e);
      if (line) process.stdout.write(line + '\n');
    },
  });
  // The last resort: whatever ends this process ends the children too (a second Ctrl-C exits at once).
  // A forced exit (130) must not leave platform.lock behind either.
  process.on('exit', () => { sup.kill(); lock.release(); });
  // The web console shares the platform's port (src/console).
  const started: { comps?: ReturnType<typeof platformComponents> } = {};
  const router = platformRouter(sup, paths.root);
  const { createConsole } = await import('../console/index.ts');
  const webConsole = createConsole({
    dataDir: paths.root, redis: cfg.redis, postgres: cfg.postgres,
    platform: {
      components: async () => (await platformHealth(sup, paths.root)).components,
      metrics: () => platformMetrics(sup),
      restart: (name) => sup.restart(name),
      brokers: () => {
        try {
          return started.comps?.brokers().split(',');
        } catch {
          return undefined;
        }
      },
    },
  }, router);
  const server: PlatformServer = await servePlatform(sup, paths.root, o.port, router, webConsole.fallback).catch((err: unknown) => {
    lock.release();
    throw err;
  });
  onShutdown(async () => {
    process.stdout.write('stopping: sim, scheduler, agent, stream, broker (Ctrl-C again to force)\n');
    await sup.stop();
    await webConsole.close();
    await server.close();
    lock.release();
    process.stdout.write('stopped\n');
  });

  const comps = started.comps = platformComponents({
    paths, kafka: cfg.kafka, redis: cfg.redis, postgres: cfg.postgres,
    brokerPort: o.brokerPort ?? cfg.broker.port, brokerHost, brokerSasl: !!sasl,
    sqlPort: o.sqlPort ?? (o.port === 0 ? 0 : 10000),
    predictPort: o.predictPort ?? (o.port === 0 ? 0 : 9001),
    sim: o.sim ? { cars: o.cars, speedup: o.speedup, seed: o.seed, date: o.date, garbage: o.garbage, statusCars: o.statusCars } : undefined,
  });
  lock.update({ port: server.port });
  try {
    await sup.start(comps.specs);
  } catch (err) {
    await sup.stop();
    await server.close();
    lock.release();
    // A child that refused its input (a busy port, a service given by flag that is not there: exit 2) makes this an input error too.
    const childCode = (err as { childExitCode?: number | null }).childExitCode;
    throw new UserError(`smartcar up could not start: ${errorMessage(err)}\n(the children's logs are in ${path.join(paths.root, 'logs', 'platform')})`, childCode === 2 ? 2 : 1);
  }

  const [bHost, bPort] = comps.brokers().split(',')[0].split(':');
  const backends = describeBackend(chooseBackends({ ...cfg, broker: { host: bHost, port: Number(bPort) } }));
  const rows: [string, string, string][] = sup.states().map((s) => {
    const spec = comps.specs.find((x) => x.name === s.name)!;
    return [s.name, `pid ${s.pid}`, spec.describe?.(s) ?? ''];
  });
  const out = [
    `smartcar up: data in ${paths.root}`,
    ...rows.map(([n, pid, d]) => `  ${n.padEnd(10)} ${pid.padEnd(10)} ${d}`),
    `  bus        ${backends.bus}`,
    `  table      ${backends.table}`,
    `  hot        ${backends.hot}`,
    `  lake       ${paths.lake}`,
    `  logs       ${path.join(paths.root, 'logs', 'platform')}/<component>.log`,
    `http://127.0.0.1:${server.port}/health  http://127.0.0.1:${server.port}/metrics  (smartcar status --data ${paths.root})`,
    `console    ${webConsole.url('127.0.0.1', server.port)}`,
    `ready; Ctrl-C stops everything`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  await new Promise(() => {});
}
