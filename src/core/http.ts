/**
 * The small HTTP endpoint every long-running component serves (127.0.0.1 by default):
 *
 *   GET /metrics  this process's Prometheus registry, text format 0.0.4
 *   GET /health   JSON `{ status: "ok" | "down", ... }`, 200 when ok, 503 otherwise
 *
 * `smartcar up` scrapes each child's endpoint and merges them; a lone component (`smartcar stream
 * --metrics-port 9400`) can be scraped by Prometheus directly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsText } from './metrics.ts';

export interface Health {
  status: 'ok' | 'down';
  [key: string]: unknown;
}

export interface StatusServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  health?: () => Health | Promise<Health>;
  /** Extra routes: path → handler returning [status, contentType, body]. */
  routes?: Record<string, () => Promise<[number, string, string]>>;
}

export interface StatusServer {
  port: number;
  host: string;
  close(): Promise<void>;
}

export async function serveStatus(opts: StatusServerOptions): Promise<StatusServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const route = async (): Promise<void> => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
      if (url === '/metrics') return reply(200, 'text/plain; version=0.0.4; charset=utf-8', await metricsText());
      if (url === '/health') {
        const h = opts.health ? await opts.health() : { status: 'ok' as const };
        return reply(h.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(h) + '\n');
      }
      const extra = opts.routes?.[url];
      if (extra) return reply(...(await extra()));
      reply(404, 'text/plain', 'not found: try /metrics or /health\n');
    };
    route().catch((err: unknown) => reply(500, 'text/plain', `error: ${err instanceof Error ? err.message : String(err)}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
