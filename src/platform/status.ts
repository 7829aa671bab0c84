/**
 * `smartcar status`: what a running `smartcar up` is doing, from three sources —
 *   /health of the platform (each component's phase, pid, restarts, own health),
 *   /metrics (throughput counters and consumer lag, sampled twice one second apart for rates),
 *   `<data>/state/stream-status.json` (stream totals and the latest overspeed alerts).
 * The port comes from --port, else from the data directory's lock file, else 8080.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadRootConfig, dataPaths, UserError, errorMessage, sumSamples, processRunning } from '../core/index.ts';
import { readLock } from './lock.ts';
import { httpGet } from './scrape.ts';
import type { PlatformHealth } from './up.ts';

export interface StatusOptions {
  config?: string;
  data?: string;
  port?: number;
  json?: boolean;
  /** Seconds between the two /metrics samples used for rates (default 1). */
  interval?: number;
}

interface StreamStatus {
  updated: number;
  totals: Record<string, number>;
  latestAlerts: { carNumber: string; date: string; avgSpeed: number }[];
}

const RATES: [string, string][] = [
  ['smartcar_sim_records_total', 'sim records'],
  ['smartcar_broker_records_produced_total', 'broker appends'],
  ['smartcar_stream_records_consumed_total', 'stream consumed'],
  ['smartcar_stream_rows_stored_total', 'table rows stored'],
  ['smartcar_stream_alerts_total', 'overspeed alerts'],
  ['smartcar_stream_dead_letters_total', 'dead letters'],
];

export async function runStatus(o: StatusOptions): Promise<number> {
  const cfg = loadRootConfig(o.config);
  const paths = dataPaths(o.data ?? cfg.dataDir);
  const lock = readLock(paths.state);
  const port = o.port ?? (lock && processRunning(lock.pid) ? lock.port : undefined) ?? cfg.console.port;
  const address = `127.0.0.1:${port}`;
  let health: PlatformHealth;
  let healthCode: number;
  try {
    const r = await httpGet(address, '/health', 5000);
    healthCode = r.status;
    health = JSON.parse(r.body) as PlatformHealth;
  } catch (err) {
    const where = lock && !processRunning(lock.pid) ? ` (its lock names pid ${lock.pid}, which is not running)` : '';
    throw new UserError(
      `the platform is not running: nothing answers on http://${address}/health (${errorMessage(err)})${where}.\n` +
        `Start it with \`smartcar up --data ${paths.root}\`, or give the port of a running one with --port.`,
      3,
    );
  }
  const m1 = sumSamples((await httpGet(address, '/metrics', 5000)).body);
  const interval = o.interval ?? 1;
  await new Promise((r) => setTimeout(r, interval * 1000));
  const m2 = sumSamples((await httpGet(address, '/metrics', 5000)).body);
  const streamFile = path.join(health.data ?? paths.root, 'state', 'stream-status.json');
  let stream: StreamStatus | undefined;
  try {
    stream = JSON.parse(fs.readFileSync(streamFile, 'utf8')) as StreamStatus;
  } catch {
    stream = undefined;
  }

  if (o.json) {
    const rates = Object.fromEntries(RATES.map(([k]) => [k, ((m2.get(k) ?? 0) - (m1.get(k) ?? 0)) / interval]));
    process.stdout.write(JSON.stringify({ health, rates, lag: m2.get('smartcar_stream_consumer_lag') ?? null, stream }) + '\n');
    return healthCode === 200 ? 0 : 1;
  }
  const lines: string[] = [];
  lines.push(`smartcar up (pid ${health.pid}) on http://${address}: ${health.status === 'ok' ? 'all components up' : 'DEGRADED: a component is down'}`);
  lines.push(`data: ${health.data}`);
  lines.push('');
  lines.push(`  ${'component'.padEnd(10)} ${'state'.padEnd(11)} ${'pid'.padEnd(8)} ${'up'.padEnd(9)} restarts  note`);
  for (const [name, c] of Object.entries(health.components)) {
    const up = c.upSeconds !== undefined ? `${c.upSeconds}s` : '-';
    const note = c.error ?? (c.lastExit && c.phase !== 'up' ? `last exit ${c.lastExit.signal ?? `code ${c.lastExit.code}`}` : '');
    lines.push(`  ${name.padEnd(10)} ${c.phase.padEnd(11)} ${String(c.pid ?? '-').padEnd(8)} ${up.padEnd(9)} ${String(c.restarts).padEnd(9)} ${note}`);
  }
  lines.push('');
  lines.push('throughput (per second, over the last ' + interval + ' s; total):');
  for (const [k, label] of RATES) {
    if (!m2.has(k)) continue;
    const rate = ((m2.get(k) ?? 0) - (m1.get(k) ?? 0)) / interval;
    lines.push(`  ${label.padEnd(20)} ${rate.toFixed(0).padStart(10)}/s ${String(m2.get(k)).padStart(14)}`);
  }
  const lag = m2.get('smartcar_stream_consumer_lag');
  // The stream commits behind its open 30-second windows, so this includes up to ~30 s of records held on purpose.
  lines.push(`  ${'stream lag'.padEnd(20)} ${lag === undefined ? 'unknown (the stream exposes no lag yet)' : `${lag} records after the committed offsets (open windows included)`}`);
  lines.push('');
  if (!stream) {
    lines.push(`latest alerts: none yet (${streamFile} not written)`);
  } else {
    const age = Math.round((Date.now() - stream.updated) / 1000);
    lines.push(`stream totals (${age}s ago): ${Object.entries(stream.totals).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const alerts = stream.latestAlerts.slice(-10);
    lines.push(`latest alerts (${alerts.length}):`);
    for (const a of alerts) lines.push(`  ${a.date}  ${a.carNumber}  average ${Number(a.avgSpeed).toFixed(1)} km/h over 30 s`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return healthCode === 200 ? 0 : 1;
}
