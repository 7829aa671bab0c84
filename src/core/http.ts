/**
 * The one HTTP layer of smartcar: a small router with a schema on every route, and the status endpoint
 * every long-running component serves (127.0.0.1 by default).
 *
 * A route is `{ method, path, query?, body?, response?, handler }`:
 * - `path` is literal segments and `:name` parameters (`/api/tables/:name`); a trailing `*` takes the rest
 *   of the path as `params['*']` (`/files/*`).
 * - `query` and `body` are zod schemas. The query string arrives as strings (use `z.coerce`); the body is
 *   JSON, at most `bodyLimit` bytes. A value that fails its schema is a 400 `{"error": "query.limit: …"}`
 *   naming the field.
 * - The handler returns a JSON-able value (200, checked against `response` when given), a `reply(...)`
 *   for another status or content type, or `undefined` after writing to `ctx.res` itself (streams, SSE).
 * - It may throw `HttpError(status, message)`; anything else is a 500 `{"error": message}` and is logged
 *   by the caller's `onError`. A path that exists with another method is a 405.
 *
 * The status endpoint (`serveStatus`):
 *   GET /metrics  this process's Prometheus registry, text format 0.0.4
 *   GET /health   JSON `{ status: "ok" | "down", ... }`, 200 when ok, 503 otherwise
 * `smartcar up` scrapes each child's endpoint and merges them; a lone component (`smartcar stream
 * --metrics-port 9400`) can be scraped by Prometheus directly.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { UserError, errorMessage } from './errors.ts';
import { metricsText } from './metrics.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A reply other than "200 with this JSON". */
export interface Reply {
  readonly kind: 'reply';
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export function reply(status: number, type: string, body: string | Buffer, headers?: Record<string, string>): Reply {
  return { kind: 'reply', status, type, body, headers };
}

export interface RequestContext<Q, B> {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  query: Q;
  body: B;
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteSpec<QS extends Schema | undefined = undefined, BS extends Schema | undefined = undefined, RS extends Schema | undefined = undefined> {
  method: Method;
  path: string;
  /** One line for the API listing. */
  summary?: string;
  query?: QS;
  body?: BS;
  response?: RS;
  handler(ctx: RequestContext<Out<QS>, Out<BS>>): Promise<(RS extends z.ZodType ? z.input<RS> : unknown) | Reply | undefined>;
}

interface CompiledRoute {
  spec: RouteSpec<Schema | undefined, Schema | undefined, Schema | undefined>;
  segments: string[];
  rest: boolean;
}

export interface RouteInfo {
  method: Method;
  path: string;
  summary?: string;
}

/** Called before every matched route (authentication, say); throw an HttpError to refuse. */
export type Guard = (req: IncomingMessage, route: RouteInfo) => void | Promise<void>;

export class Router {
  private readonly table: CompiledRoute[] = [];
  private readonly guards: Guard[] = [];
  private readonly bodyLimit: number;

  constructor(opts: { bodyLimit?: number } = {}) {
    this.bodyLimit = opts.bodyLimit ?? 1 << 20;
  }

  route<QS extends Schema | undefined = undefined, BS extends Schema | undefined = undefined, RS extends Schema | undefined = undefined>(
    spec: RouteSpec<QS, BS, RS>,
  ): this {
    const parts = spec.path.split('/').filter(Boolean);
    const rest = parts.at(-1) === '*';
    if (rest) parts.pop();
    this.table.push({ spec: spec as unknown as CompiledRoute['spec'], segments: parts, rest });
    return this;
  }

  use(guard: Guard): this {
    this.guards.push(guard);
    return this;
  }

  routes(): RouteInfo[] {
    return this.table.map(({ spec }) => ({ method: spec.method, path: spec.path, summary: spec.summary }));
  }

  /** Serves the request when a route matches it; false when none does (the caller answers 404). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    let pathMatched = false;
    for (const r of this.table) {
      const params = match(r, segments);
      if (!params) continue;
      pathMatched = true;
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      if (r.spec.method !== method && r.spec.method !== req.method) continue;
      await this.run(r, params, url, req, res);
      return true;
    }
    if (pathMatched) {
      sendJson(res, 405, { error: `method ${req.method} not allowed on ${url.pathname}` });
      return true;
    }
    return false;
  }

  private async run(r: CompiledRoute, params: Record<string, string>, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      for (const g of this.guards) await g(req, { method: r.spec.method, path: r.spec.path, summary: r.spec.summary });
      const query = r.spec.query ? parse(r.spec.query, Object.fromEntries(url.searchParams), 'query') : undefined;
      const body = r.spec.body ? parse(r.spec.body, await readJson(req, this.bodyLimit), 'body') : undefined;
      const out = await r.spec.handler({ req, res, url, params, query, body });
      if (out === undefined) {
        if (!res.headersSent) res.writeHead(204).end();
        return;
      }
      if (isReply(out)) {
        res.writeHead(out.status, { 'content-type': out.type, ...out.headers });
        res.end(req.method === 'HEAD' ? undefined : out.body);
        return;
      }
      if (r.spec.response) {
        const checked = r.spec.response.safeParse(out);
        if (!checked.success) throw new Error(`response of ${r.spec.method} ${r.spec.path} does not match its schema: ${issues(checked.error, 'response')}`);
      }
      sendJson(res, 200, out);
    } catch (err) {
      if (res.headersSent) {
        res.destroy(err instanceof Error ? err : undefined);
        return;
      }
      if (err instanceof HttpError) sendJson(res, err.status, { error: err.message });
      else if (err instanceof UserError) sendJson(res, 400, { error: err.message });
      else sendJson(res, 500, { error: errorMessage(err) });
    }
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function match(r: CompiledRoute, segments: string[]): Record<string, string> | undefined {
  if (r.rest ? segments.length < r.segments.length : segments.length !== r.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < r.segments.length; i++) {
    const want = r.segments[i];
    if (want.startsWith(':')) params[want.slice(1)] = segments[i];
    else if (want !== segments[i]) return undefined;
  }
  if (r.rest) params['*'] = segments.slice(r.segments.length).join('/');
  return params;
}

function isReply(v: unknown): v is Reply {
  return typeof v === 'object' && v !== null && (v as Reply).kind === 'reply';
}

function issues(err: z.ZodError, where: string): string {
  return err.issues.map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
}

function parse(schema: Schema, value: unknown, where: string): unknown {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, issues(r.error, where));
  return r.data;
}

/** The request body as text; over `limit` bytes is a 413. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(req, limit);
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `body: not valid JSON (${errorMessage(err)})`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value) + '\n');
}

export interface ListenOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  router: Router;
  /** Serves what no route matched (static files, say); answers 404 when absent or when it returns false. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** The flag that changes the port, named in the "port in use" error. */
  portFlag?: string;
  /** Keep the process alive while listening (the default lets it exit). */
  ref?: boolean;
}

export interface HttpServer {
  port: number;
  host: string;
  server: http.Server;
  close(): Promise<void>;
}

/** Listens with the router; a busy port is a UserError naming it and the flag that changes it. */
export async function listen(opts: ListenOptions): Promise<HttpServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    void (async () => {
      if (await opts.router.handle(req, res)) return;
      if (opts.fallback && (await opts.fallback(req, res))) return;
      const paths = opts.router.routes().map((r) => r.path);
      sendJson(res, 404, { error: `not found: ${(req.url ?? '/').split('?')[0]}`, routes: paths.slice(0, 20) });
    })().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: errorMessage(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        reject(new UserError(`port ${opts.port} on ${host} is in use; choose another with ${opts.portFlag ?? '--port'} (0 = any free port)`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new UserError(`cannot listen on ${host}: no such local address`));
      else reject(err);
    });
    server.listen(opts.port, host, () => resolve());
  });
  if (!opts.ref) server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    host,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Health {
  status: 'ok' | 'down';
  [key: string]: unknown;
}

/** GET /health and GET /metrics on a router: the same two routes in every component and the supervisor. */
export function statusRoutes<H extends { status: 'ok' | 'down' }>(router: Router, health: () => H | Promise<H>, metrics: () => Promise<string> = metricsText): Router {
  return router
    .route({
      method: 'GET',
      path: '/metrics',
      summary: 'Prometheus metrics, text format 0.0.4',
      handler: async () => reply(200, 'text/plain; version=0.0.4; charset=utf-8', await metrics()),
    })
    .route({
      method: 'GET',
      path: '/health',
      summary: 'health: 200 when ok, 503 otherwise',
      handler: async () => {
        const h = await health();
        return reply(h.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(h) + '\n');
      },
    });
}

export interface StatusServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  health?: () => Health | Promise<Health>;
  /** The flag that changes the port (default `--metrics-port`). */
  portFlag?: string;
}

export type StatusServer = HttpServer;

export async function serveStatus(opts: StatusServerOptions): Promise<StatusServer> {
  const router = statusRoutes(new Router(), opts.health ?? (() => ({ status: 'ok' })));
  return listen({ host: opts.host, port: opts.port, router, portFlag: opts.portFlag ?? '--metrics-port' });
}
