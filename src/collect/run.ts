/** `smartcar agent`: loads an agent definition, runs it until Ctrl-C/SIGTERM, publishes status and metrics. */
import fs from 'node:fs';
import path from 'node:path';
import { loadRootConfigWithFlags, dataPaths, onShutdown, createLogger, serveStatus, UserError, chooseBackends, processRunning } from '../core/index.ts';
import { Agent, readAgentFile, createDeadLetters, type ComponentStatus } from './index.ts';

export interface AgentCommandOptions {
  name: string; file: string; data?: string; kafka?: string; config?: string;
  metricsPort?: number; lenient: boolean; check: boolean; status: boolean;
}

export function statusFile(dataDir: string, agent: string): string {
  return path.join(dataPaths(dataDir).state, 'collect', agent, 'status.json');
}

export function formatStatus(components: ComponentStatus[]): string {
  const rows = components.map((c) => [c.kind, c.name, c.type,
    c.kind === 'channel' ? `${c.fill}/${c.capacity}` : '',
    c.kind === 'sink' ? String(c.delivered) : '',
    c.kind === 'sink' ? String(c.errors) + (c.lastError ? ` (${c.lastError})` : '') : '']);
  const head = ['kind', 'name', 'type', 'fill', 'delivered', 'errors'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((v, i) => v.padEnd(w[i])).join('  ').trimEnd()).join('\n') + '\n';
}

export async function runAgentCommand(o: AgentCommandOptions): Promise<void> {
  const cfg = loadRootConfigWithFlags(o);
  const file = statusFile(cfg.dataDir, o.name);
  if (o.status) {
    if (!fs.existsSync(file)) throw new UserError(`no status for agent ${o.name} under ${cfg.dataDir}: is it running (smartcar agent -n ${o.name} -f …)?`);
    const st = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; updated: number; components: ComponentStatus[] };
    const alive = processRunning(st.pid);
    process.stdout.write(`agent ${o.name} (pid ${st.pid}, ${alive ? 'running' : 'not running'}), updated ${new Date(st.updated).toISOString()}\n`);
    process.stdout.write(formatStatus(st.components));
    return;
  }
  const def = readAgentFile(o.file, o.name);
  const log = createLogger('agent');
  const agent = new Agent(def, { dataDir: cfg.dataDir, brokers: chooseBackends(cfg).brokers, deadLetters: createDeadLetters(cfg.dataDir, o.name), lenient: o.lenient, log });
  agent.build();
  for (const w of agent.warnings) process.stderr.write(`warning: ${w}\n`);
  if (o.check) {
    process.stdout.write(`${o.file}: agent ${o.name} is valid: ${def.sources.length} source(s), ${def.channels.length} channel(s), ${def.sinks.length} sink(s)\n`);
    return;
  }
  await agent.start();
  const stopStatus = agent.publishStatus(file);
  let server: Awaited<ReturnType<typeof serveStatus>> | undefined;
  if (o.metricsPort !== undefined) {
    server = await serveStatus({ port: o.metricsPort, health: () => ({ status: 'ok', agent: o.name, components: agent.status() }) });
    process.stdout.write(`metrics listening ${server.host}:${server.port}\n`);
  }
  process.stdout.write(`agent ${o.name} running: ${def.sources.map((s) => s.name).join(', ')} → ${def.sinks.map((s) => s.name).join(', ')} (data ${path.resolve(cfg.dataDir)})\n`);
  let stopped!: () => void;
  const done = new Promise<void>((r) => (stopped = r));
  onShutdown(async () => {
    await agent.stop();
    stopStatus();
    await server?.close();
    stopped();
  });
  await done;
}
