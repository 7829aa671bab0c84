/**
 * The web console (Hue + Zeppelin + Cloudera Manager): a JSON API under `/api/` with a schema on every
 * route (routes/*.ts, one file per resource), and the React UI of `web/` served beside it.
 * `smartcar up` mounts it on its own port (8080); `smartcar console --data DIR` serves it alone.
 *
 *   GET /api/                    every route with its method and summary
 *   GET /api/session             whether this request may change things (token given), the data dir
 *
 * Security (auth.ts): loopback by default; mutating routes need the token; another address needs a
 * token on every request. SQL is read-only and sandboxed (readonly.ts, sql/catalog.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { isLoopback, listen, Router, type HttpServer, UserError } from '../core/index.ts';
import { checkRequest, consoleToken, type Auth } from './auth.ts';
import { ConsoleContext, type ConsoleOptions, type PlatformView, type ComponentInfo } from './context.ts';
import { staticFallback } from './static.ts';
import { ComponentsSnapshot, MetricsHistory, overviewRoutes } from './routes/overview.ts';
import { AlertFeed, alertRoutes } from './routes/alerts.ts';
import { lakeRoutes } from './routes/lake.ts';
import { TopicBrowser, topicRoutes } from './routes/topics.ts';
import { tableRoutes } from './routes/tables.ts';
import { notebookRoutes } from './routes/notebooks.ts';
import { workflowRoutes } from './routes/workflows.ts';
import { ruleRoutes } from './routes/rules.ts';
import { analysisRoutes } from './routes/analysis.ts';

export type { ConsoleOptions, PlatformView, ComponentInfo };
export { consoleToken, TOKEN_ENV } from './auth.ts';
export { parseNotebook, formatNotebook } from './notebook.ts';
export { parseForms, substituteForms } from './forms.ts';

/** POST routes that only read (queries, checks): open like GETs. */
const READ_ONLY_POSTS = new Set(['/api/sql/run', '/api/sql/forms', '/api/sql/runs/:id/cancel', '/api/rules/check', '/api/rules/test']);

export interface Console {
  /** Adds the console's routes to a router (the platform's, say). */
  routes: Router;
  /** Serves the built UI for whatever no route matched. */
  fallback: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  token: string;
  tokenSource: string;
  /** The address to print: carries the token. */
  url(host: string, port: number): string;
  close(): Promise<void>;
}

export interface MountOptions extends ConsoleOptions {
  /** The address the listener binds (decides whether reads need the token too). */
  host?: string;
}

/** Builds the console on `router` (a new one when absent). */
export function createConsole(o: MountOptions, router = new Router()): Console {
  const ctx = new ConsoleContext(o);
  const { token, source } = consoleToken(ctx.paths.state);
  const host = o.host ?? '127.0.0.1';
  const auth: Auth = { token, everyRequest: !isLoopback(host) };
  router.use((req, route) => {
    if (!route.path.startsWith('/api/')) return;
    const mutating = req.method !== 'GET' && req.method !== 'HEAD' && !READ_ONLY_POSTS.has(route.path);
    checkRequest(auth, req, mutating);
  });
  const history = new MetricsHistory(async () => {
    if (!o.platform) throw new Error('not supervised');
    return o.platform.metrics();
  });
  if (o.platform) history.start();
  const feed = new AlertFeed(ctx);
  const topics = new TopicBrowser(ctx);

  router.route({
    method: 'GET', path: '/api/', summary: 'the API: every route',
    response: z.array(z.object({ method: z.string(), path: z.string(), summary: z.string().optional() })),
    handler: async () => router.routes().filter((r) => r.path.startsWith('/api/')),
  });
  router.route({
    method: 'GET', path: '/api/session', summary: 'the console: data directory, whether the token was given',
    response: z.object({ data: z.string(), supervised: z.boolean(), canWrite: z.boolean(), host: z.string() }),
    handler: async ({ req }) => {
      let canWrite = true;
      try {
        checkRequest(auth, req, true);
      } catch {
        canWrite = false;
      }
      return { data: ctx.root, supervised: !!o.platform, canWrite, host };
    },
  });
  const snapshot = new ComponentsSnapshot(ctx);
  overviewRoutes(router, ctx, history, snapshot);
  alertRoutes(router, ctx, feed);
  lakeRoutes(router, ctx);
  topicRoutes(router, topics);
  tableRoutes(router, ctx);
  notebookRoutes(router, ctx);
  workflowRoutes(router, ctx);
  ruleRoutes(router, ctx);
  analysisRoutes(router, ctx);

  return {
    routes: router,
    fallback: staticFallback(auth),
    token,
    tokenSource: source,
    url: (h, port) => `http://${h.includes(':') ? `[${h}]` : h}:${port}/?token=${token}`,
    async close() {
      history.stop();
      snapshot.stop();
      feed.stop();
      await topics.close();
      await ctx.close();
    },
  };
}

export interface ServeConsoleOptions extends ConsoleOptions {
  host: string;
  port: number;
}

/** `smartcar console`: the console alone over a data directory. */
export async function serveConsole(o: ServeConsoleOptions): Promise<{ console: Console; server: HttpServer }> {
  if (!isLoopback(o.host) && !process.env.SMARTCAR_CONSOLE_TOKEN) {
    throw new UserError(`--host ${o.host} would expose the console beyond this machine: set SMARTCAR_CONSOLE_TOKEN to a secret first (every request will then need it)`);
  }
  const c = createConsole(o);
  const server = await listen({ host: o.host, port: o.port, router: c.routes, fallback: c.fallback, portFlag: '--port', ref: true });
  return { console: c, server };
}
