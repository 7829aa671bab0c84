import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { Supervisor, SMARTCAR_BIN, type SupervisorEvent } from '../../src/platform/supervisor.ts';
import { servePlatform } from '../../src/platform/up.ts';
import { httpGet, mergeMetrics, labelSample } from '../../src/platform/scrape.ts';
import { metricsText } from '../../src/core/metrics.ts';
import { waitFor } from '../support/overspeed.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-supervisor-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/**
 * A real child process honouring the component contract: serves /metrics and /health on a free
 * port, prints `metrics listening 127.0.0.1:<port>`, records the signal that stopped it.
 * Modes: `serve` runs until stopped; `crash` exits with code 1 shortly after getting ready;
 * `sick` answers /health with 503.
 */
const CHILD = path.join(root, 'child.mjs');
fs.writeFileSync(CHILD, `
import http from 'node:http';
import fs from 'node:fs';
const [mode, name, stopFile] = process.argv.slice(2);
const srv = http.createServer((req, res) => {
  if (req.url === '/metrics') {
    res.end('# HELP demo_requests_total Requests served.\\n# TYPE demo_requests_total counter\\ndemo_requests_total{path="/x"} ' + name.length + '\\n' +
      '# HELP demo_only_' + name + ' A family only this child has.\\n# TYPE demo_only_' + name + ' gauge\\ndemo_only_' + name + ' 1\\n');
    return;
  }
  if (req.url === '/health') {
    res.writeHead(mode === 'sick' ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: mode === 'sick' ? 'down' : 'ok', name }));
    return;
  }
  res.statusCode = 404;
  res.end();
});
srv.listen(0, '127.0.0.1', () => {
  console.log('metrics listening 127.0.0.1:' + srv.address().port);
  if (mode === 'crash') setTimeout(() => process.exit(1), 30);
});
process.on('SIGTERM', () => { fs.appendFileSync(stopFile, name + '\\n'); process.exit(0); });
`);

/** Runs smartcar without blocking this process (whose event loop serves the platform endpoint). */
function smartcar(args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [SMARTCAR_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    c.stdout!.on('data', (b: Buffer) => { stdout += b.toString(); });
    c.once('close', (status) => resolve({ status, stdout }));
  });
}

function supervisor(dir: string, events: SupervisorEvent[], base = 100, stableMs = 60_000): Supervisor {
  return new Supervisor({
    logDir: path.join(root, dir),
    backoffBaseMs: base,
    backoffMaxMs: Math.max(5_000, base),
    stableMs,
    readyTimeoutMs: 60_000,
    command: { file: process.execPath, prefix: [CHILD] },
    onEvent: (e) => events.push(Object.assign(e, { at: Date.now() })),
  });
}

describe('supervisor', () => {
  it('restarts a child that exits, with exponentially growing delays, and counts the restarts', async () => {
    const events: SupervisorEvent[] = [];
    const sup = supervisor('restart', events, 100);
    const stopFile = path.join(root, 'restart.stops');
    await sup.start([{ name: 'crasher', args: () => ['crash', 'crasher', stopFile] }]);
    await waitFor(() => (sup.state('crasher')?.restarts ?? 0) >= 4, 90_000, 'four restarts');
    await sup.stop();
    const delays = events.filter((e) => e.kind === 'restarting').map((e) => (e as { delayMs: number }).delayMs);
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    // The starts really are spaced by at least those delays.
    const startedAt = events.filter((e) => e.kind === 'started').map((e) => (e as unknown as { at: number }).at);
    for (let i = 0; i < 3; i++) expect(startedAt[i + 1] - startedAt[i]).toBeGreaterThanOrEqual(delays[i]);
    expect(events.filter((e) => e.kind === 'exited').map((e) => (e as { code: number }).code).every((c) => c === 1)).toBe(true);
    const text = await metricsText();
    const m = /smartcar_platform_restarts_total\{component="crasher"\} (\d+)/.exec(text);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(4);
    expect(fs.readFileSync(path.join(root, 'restart', 'crasher.log'), 'utf8')).toContain('metrics listening');
  });

  it('an operator\'s restart stops the child with SIGTERM and starts it at once, counted as a restart but not a crash', async () => {
    const events: SupervisorEvent[] = [];
    // A 60 s backoff: a restart treated as a crash would not come back within the wait below.
    const sup = supervisor('requested', events, 60_000);
    const stopFile = path.join(root, 'requested.stops');
    await sup.start([{ name: 'svc', args: () => ['serve', 'svc', stopFile] }]);
    const firstPid = sup.state('svc')!.pid;
    await sup.restart('svc');
    await waitFor(() => sup.state('svc')?.phase === 'up', 30_000, 'the restarted child up');
    const after = sup.state('svc')!;
    await sup.stop();
    expect(after.pid).toBeDefined();
    expect(after.pid).not.toBe(firstPid);
    expect(after.restarts).toBe(1);
    // It stopped with SIGTERM (the child records it) once for the restart, once for the final stop.
    expect(fs.readFileSync(stopFile, 'utf8').trim().split('\n')).toEqual(['svc', 'svc']);
    expect(events.filter((e) => e.kind === 'restarting').map((e) => (e as { delayMs: number }).delayMs)).toEqual([0]);
    await expect(sup.restart('nope')).rejects.toThrow(/no component named nope/);
  }, 60_000);

  it('starts in dependency order, stops in reverse, with SIGTERM', async () => {
    const events: SupervisorEvent[] = [];
    const sup = supervisor('order', events);
    const stopFile = path.join(root, 'order.stops');
    await sup.start([
      { name: 'first', args: () => ['serve', 'first', stopFile] },
      { name: 'second', args: () => ['serve', 'second', stopFile], dependsOn: ['first'] },
      { name: 'third', args: () => ['serve', 'third', stopFile], dependsOn: ['second'] },
    ]);
    expect(events.filter((e) => e.kind === 'ready').map((e) => e.name)).toEqual(['first', 'second', 'third']);
    expect(sup.states().every((s) => s.phase === 'up' && s.metricsAddress)).toBe(true);
    await sup.stop();
    expect(fs.readFileSync(stopFile, 'utf8').trim().split('\n')).toEqual(['third', 'second', 'first']);
    expect(events.filter((e) => e.kind === 'restarting')).toEqual([]);
  });
});

describe('platform HTTP endpoint', () => {
  it('/health is 200 when every child is up, 503 while one is down, 200 again after its restart', async () => {
    const events: SupervisorEvent[] = [];
    // A 30 s restart delay: the checks below (a fresh `smartcar status` process included) must all see
    // the child down, and a loaded machine can take seconds to start a process.
    const sup = supervisor('health', events, 30_000);
    const stopFile = path.join(root, 'health.stops');
    await sup.start([
      { name: 'a', args: () => ['serve', 'a', stopFile] },
      { name: 'b', args: () => ['serve', 'b', stopFile] },
    ]);
    const srv = await servePlatform(sup, root, 0);
    try {
      const ok = await httpGet(`127.0.0.1:${srv.port}`, '/health');
      expect(ok.status).toBe(200);
      const body = JSON.parse(ok.body);
      expect(body.status).toBe('ok');
      expect(body.components.b.health).toEqual({ status: 'ok', name: 'b' });

      const pid = sup.state('b')!.pid!;
      process.kill(pid, 'SIGKILL');
      await waitFor(() => sup.state('b')?.phase === 'restarting', 30_000, 'b seen down');
      const down = await httpGet(`127.0.0.1:${srv.port}`, '/health');
      expect(down.status).toBe(503);
      // smartcar status reads the same: the component down, exit 1.
      const st = await smartcar(['status', '--port', String(srv.port), '--interval', '0.2']);
      expect(st.stdout).toMatch(/DEGRADED: a component is down/);
      expect(st.stdout).toMatch(/^ {2}b +restarting +- /m);
      expect(st.stdout).toMatch(/^ {2}a +up +\d+ /m);
      expect(st.status).toBe(1);
      const d = JSON.parse(down.body);
      expect(d.status).toBe('down');
      expect(d.components.b.phase).toBe('restarting');
      expect(d.components.b.lastExit.signal).toBe('SIGKILL');
      expect(d.components.a.phase).toBe('up');

      await waitFor(() => sup.state('b')?.phase === 'up', 90_000, 'b restarted');
      const again = await httpGet(`127.0.0.1:${srv.port}`, '/health');
      expect(again.status).toBe(200);
      expect(JSON.parse(again.body).components.b.restarts).toBe(1);
      const st2 = await smartcar(['status', '--port', String(srv.port), '--interval', '0.2', '--json']);
      expect(st2.status).toBe(0);
      expect(JSON.parse(st2.stdout).health.components.b).toMatchObject({ phase: 'up', restarts: 1 });
    } finally {
      await sup.stop();
      await srv.close();
    }
  });

  it('/health is 503 when a running child reports itself down', async () => {
    const sup = supervisor('sick', []);
    await sup.start([{ name: 'ill', args: () => ['sick', 'ill', path.join(root, 'sick.stops')] }]);
    const srv = await servePlatform(sup, root, 0);
    try {
      const r = await httpGet(`127.0.0.1:${srv.port}`, '/health');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).components.ill.error).toMatch(/answered 503/);
    } finally {
      await sup.stop();
      await srv.close();
    }
  });

  it('/metrics holds the platform metrics and every child\'s, one HELP/TYPE per family, samples labelled by component', async () => {
    const sup = supervisor('metrics', []);
    const stopFile = path.join(root, 'metrics.stops');
    await sup.start([
      { name: 'one', args: () => ['serve', 'one', stopFile] },
      { name: 'three', args: () => ['serve', 'three', stopFile] },
    ]);
    const srv = await servePlatform(sup, root, 0);
    try {
      const r = await httpGet(`127.0.0.1:${srv.port}`, '/metrics');
      expect(r.status).toBe(200);
      const lines = r.body.split('\n');
      expect(lines.filter((l) => l === '# HELP demo_requests_total Requests served.')).toHaveLength(1);
      expect(lines.filter((l) => l === '# TYPE demo_requests_total counter')).toHaveLength(1);
      expect(lines).toContain('demo_requests_total{component="one",path="/x"} 3');
      expect(lines).toContain('demo_requests_total{component="three",path="/x"} 5');
      expect(lines).toContain('demo_only_one{component="one"} 1');
      expect(lines).toContain('demo_only_three{component="three"} 1');
      expect(lines.some((l) => l.startsWith('smartcar_platform_component_up{component="platform",component'))).toBe(false);
      expect(lines).toContain('# TYPE smartcar_platform_component_up gauge');
      // A family's samples follow its HELP/TYPE without another family in between.
      const i = lines.indexOf('# TYPE demo_requests_total counter');
      expect(lines.slice(i + 1, i + 3).every((l) => l.startsWith('demo_requests_total{'))).toBe(true);
    } finally {
      await sup.stop();
      await srv.close();
    }
  });
});

describe('merging Prometheus text', () => {
  it('keeps histogram series under their family and leaves an existing component label alone', () => {
    const a = '# HELP h_seconds Latency.\n# TYPE h_seconds histogram\nh_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 0.3\nh_seconds_count 2\n';
    const b = '# HELP h_seconds Latency.\n# TYPE h_seconds histogram\nh_seconds_bucket{le="0.1"} 0\nh_seconds_bucket{le="+Inf"} 1\nh_seconds_sum 0.5\nh_seconds_count 1\n';
    const merged = mergeMetrics([{ component: 'x', text: a }, { component: 'y', text: b }]).trim().split('\n');
    expect(merged).toEqual([
      '# HELP h_seconds Latency.', '# TYPE h_seconds histogram',
      'h_seconds_bucket{component="x",le="0.1"} 1', 'h_seconds_bucket{component="x",le="+Inf"} 2', 'h_seconds_sum{component="x"} 0.3', 'h_seconds_count{component="x"} 2',
      'h_seconds_bucket{component="y",le="0.1"} 0', 'h_seconds_bucket{component="y",le="+Inf"} 1', 'h_seconds_sum{component="y"} 0.5', 'h_seconds_count{component="y"} 1',
    ]);
    expect(labelSample('m{component="z"} 1', 'x')).toBe('m{component="z"} 1');
    expect(labelSample('m{a="q\\"uote"} 1', 'x')).toBe('m{component="x",a="q\\"uote"} 1');
  });
});
