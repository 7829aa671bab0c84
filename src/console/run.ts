/** `smartcar console`: resolves the config, serves, prints the URL with its token, stops on Ctrl-C. */
import { loadRootConfigWithFlags, onShutdown } from '../core/index.ts';
import { serveConsole } from './index.ts';

export async function runConsole(o: { config?: string; data?: string; host: string; port?: number; kafka?: string; redis?: string; postgres?: string }): Promise<void> {
  const cfg = loadRootConfigWithFlags(o);
  const brokers = cfg.kafka ? cfg.kafka.split(',').map((s) => s.trim()).filter(Boolean) : [`${cfg.broker.host}:${cfg.broker.port}`];
  const { console: c, server } = await serveConsole({
    dataDir: cfg.dataDir, host: o.host, port: o.port ?? cfg.console.port, brokers, redis: cfg.redis, postgres: cfg.postgres,
  });
  onShutdown(async () => {
    await server.close();
    await c.close();
  });
  process.stdout.write(`console: ${c.url(o.host, server.port)}\n  token from ${c.tokenSource}; Ctrl-C stops\n`);
  await new Promise(() => {});
}
