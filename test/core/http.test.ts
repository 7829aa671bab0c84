import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { z } from 'zod';
import { HttpError, listen, reply, Router, statusRoutes, type HttpServer } from '../../src/core/http.ts';

describe('the HTTP router', () => {
  let srv: HttpServer;
  let base: string;
  beforeAll(async () => {
    const router = new Router({ bodyLimit: 64 })
      .route({
        method: 'GET',
        path: '/api/tables/:name',
        query: z.object({ limit: z.coerce.number().int().positive().default(10) }),
        response: z.object({ name: z.string(), limit: z.number() }),
        handler: async ({ params, query }) => ({ name: params.name, limit: query.limit }),
      })
      .route({
        method: 'POST',
        path: '/api/echo',
        body: z.object({ n: z.number() }),
        handler: async ({ body }) => ({ twice: body.n * 2 }),
      })
      .route({ method: 'GET', path: '/files/*', handler: async ({ params }) => reply(200, 'text/plain', params['*']) })
      .route({ method: 'GET', path: '/teapot', handler: async () => { throw new HttpError(418, 'short and stout'); } })
      .route({ method: 'GET', path: '/bad', response: z.object({ ok: z.boolean() }), handler: async () => ({ ok: 'yes' }) as never });
    statusRoutes(router, () => ({ status: 'down', reason: 'test' }));
    srv = await listen({ port: 0, router });
    base = `http://127.0.0.1:${srv.port}`;
  });
  afterAll(() => srv.close());

  it('matches parameters and coerces the query through its schema', async () => {
    const r = await fetch(`${base}/api/tables/smartcar_master?limit=3`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ name: 'smartcar_master', limit: 3 });
  });

  it('answers 400 naming the field that fails its schema', async () => {
    const r = await fetch(`${base}/api/tables/x?limit=abc`);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^query\.limit: /);
    const b = await fetch(`${base}/api/echo`, { method: 'POST', body: JSON.stringify({ n: 'two' }) });
    expect(b.status).toBe(400);
    expect(((await b.json()) as { error: string }).error).toMatch(/^body\.n: /);
  });

  it('parses a JSON body, refuses broken JSON and oversized bodies', async () => {
    expect(await (await fetch(`${base}/api/echo`, { method: 'POST', body: '{"n":21}' })).json()).toEqual({ twice: 42 });
    const broken = await fetch(`${base}/api/echo`, { method: 'POST', body: '{"n":' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toMatch(/not valid JSON/);
    const big = await fetch(`${base}/api/echo`, { method: 'POST', body: JSON.stringify({ n: 1, pad: 'x'.repeat(100) }) });
    expect(big.status).toBe(413);
  });

  it('takes the rest of the path for a trailing star, and 405s another method on a known path', async () => {
    expect(await (await fetch(`${base}/files/a/b%20c.log`)).text()).toBe('a/b c.log');
    const r = await fetch(`${base}/api/echo`);
    expect(r.status).toBe(405);
  });

  it('turns HttpError into its status, a response off its schema into a 500, and unknown paths into 404', async () => {
    expect((await fetch(`${base}/teapot`)).status).toBe(418);
    const bad = await fetch(`${base}/bad`);
    expect(bad.status).toBe(500);
    expect(((await bad.json()) as { error: string }).error).toMatch(/does not match its schema/);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });

  it('serves /health with 503 when down, and /metrics as Prometheus text', async () => {
    const h = await fetch(`${base}/health`);
    expect(h.status).toBe(503);
    expect(await h.json()).toEqual({ status: 'down', reason: 'test' });
    const m = await fetch(`${base}/metrics`);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('names the port and the flag when the port is busy', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      await expect(listen({ port, router: new Router(), portFlag: '--console-port' })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use; choose another with --console-port`);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
