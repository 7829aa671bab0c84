/** `smartcar stream`: resolves backends, seeds the rules directory, runs N topology members until stopped. */
import fs from 'node:fs';
import path from 'node:path';
import { shippedPath, loadRootConfigWithFlags, dataPaths, onShutdown, createLogger, chooseBackends, describeBackend, serveStatus, type Health, type StatusServer } from '../core/index.ts';
import { startTopology, type Topology } from './topology.ts';

const log = createLogger('stream');

/** The rules shipped with the package (`rules/*.epl`). */
export const SHIPPED_RULES = shippedPath('rules');

/** Copies the shipped rules into a rules directory that does not exist yet, so operators edit their own copy. */
export function seedRules(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(SHIPPED_RULES)) if (f.endsWith('.epl')) fs.copyFileSync(path.join(SHIPPED_RULES, f), path.join(dir, f));
}

export interface StreamCommandOptions {
  config?: string; data?: string; kafka?: string; redis?: string; postgres?: string; rules?: string;
  group: string; parallelism: number; lateness: number; idleClose: number; sessionTimeout?: number;
  /** Serve /metrics and /health on this port (0: a free one); default none. */
  metricsPort?: number;
  /** How often consumer lag is sampled (ms); default 5000. */
  lagInterval?: number;
}

/** /health of a stream process: ok while every member's consumer runs, else down with the first reason. */
export function streamHealth(members: Topology[]): Health {
  if (members.length === 0) return { status: 'down', reason: 'starting' };
  const bad = members.map((t) => t.health()).find((h) => !h.ok);
  if (bad) return { status: 'down', reason: bad.reason };
  const totals = { consumed: 0, stored: 0, deadLetters: 0, alerts: 0, late: 0 };
  for (const t of members) for (const [k, v] of Object.entries(t.stats())) totals[k as keyof typeof totals] += v;
  return { status: 'ok', members: members.length, ...totals };
}

/** Binds /metrics and /health for the members (the array may still be filling: /health says `starting`). */
export async function listenStreamStatus(members: Topology[], port: number): Promise<StatusServer> {
  return serveStatus({ port, health: () => streamHealth(members), portFlag: '--metrics-port' });
}

/** The one stdout line a supervisor parses: `metrics listening 127.0.0.1:<port>`. */
export function announceStatus(server: StatusServer): void {
  process.stdout.write(`metrics listening ${server.host}:${server.port}\n`);
}

/** Binds the endpoint and announces it. */
export async function serveStreamStatus(members: Topology[], port: number): Promise<StatusServer> {
  const server = await listenStreamStatus(members, port);
  announceStatus(server);
  return server;
}

export async function runStreamCommand(o: StreamCommandOptions): Promise<void> {
  const cfg = loadRootConfigWithFlags(o);
  const paths = dataPaths(cfg.dataDir);
  const rulesDir = path.resolve(o.rules ?? paths.rules);
  if (!o.rules) seedRules(rulesDir);
  const b = chooseBackends(cfg);
  const members: Topology[] = [];
  // Bound before anything is opened: a port in use fails the command before it connects or joins the group.
  const status = o.metricsPort === undefined ? undefined : await listenStreamStatus(members, o.metricsPort);
  const { openTableStore } = await import('../table/index.ts');
  const { openHotStore } = await import('../hot/index.ts');
  const { createBus } = await import('../bus/index.ts');
  const table = await openTableStore(b.table);
  const hot = await openHotStore(b.hot);
  const bus = await createBus({ brokers: b.brokers, clientId: 'smartcar-stream' });
  for (let i = 0; i < o.parallelism; i++) {
    members.push(await startTopology({ bus, table, hot, rulesDir, groupId: o.group, allowedLatenessMs: o.lateness, idleCloseMs: o.idleClose, sessionTimeoutMs: o.sessionTimeout, lagIntervalMs: o.lagInterval }));
  }
  log.info({ ...describeBackend(b), rules: rulesDir, group: o.group, parallelism: o.parallelism }, 'stream topology running');
  process.stdout.write(`stream: group ${o.group}, ${o.parallelism} member(s), rules ${rulesDir}\n`);
  if (status) announceStatus(status);
  // For `smartcar status` and /health: throughput and the latest alerts, refreshed every 2 s.
  const statusFile = path.join(paths.state, 'stream-status.json');
  fs.mkdirSync(paths.state, { recursive: true });
  const started = Date.now();
  const writeStatus = () => {
    const totals = { consumed: 0, stored: 0, deadLetters: 0, alerts: 0, late: 0 };
    for (const t of members) for (const [k, v] of Object.entries(t.stats())) totals[k as keyof typeof totals] += v;
    const latestAlerts = members.flatMap((t) => t.recentAlerts()).slice(-20);
    const tmp = statusFile + '.tmp';
    fs.writeFileSync(tmp, JSON.stringify({ pid: process.pid, started, updated: Date.now(), totals, latestAlerts }));
    fs.renameSync(tmp, statusFile);
  };
  const statusTimer = setInterval(writeStatus, 2000);
  statusTimer.unref();
  onShutdown(async () => {
    clearInterval(statusTimer);
    await Promise.all(members.map((t) => t.stop()));
    await status?.close();
    await bus.close();
    await hot.close();
    await table.close();
  });
  // A member whose consumer fails takes the process down with a non-zero code; a supervisor restarts it.
  await Promise.all(members.map((t) => t.done));
}
