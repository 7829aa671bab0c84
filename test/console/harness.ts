/**
 * A real `smartcar up` (with the simulator) in a temporary data directory, Debian's Chromium driven by
 * playwright-core, and the `smartcar` CLI as the independent reader of what the console changed.
 * Shared by the browser tests and bench/console.ts.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'smartcar.js');
export const CHROMIUM = process.env.SMARTCAR_CHROMIUM ?? '/usr/bin/chromium';
const run = promisify(execFile);

export interface Platform {
  data: string;
  port: number;
  token: string;
  base: string;
  child: ChildProcess;
  out(): string;
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number }>;
  stop(): Promise<void>;
}

export async function startPlatform(o: { cars: number; speedup: number; seed?: number; extra?: string[]; env?: NodeJS.ProcessEnv; readyMs?: number }): Promise<Platform> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-console-'));
  const child = spawn(process.execPath, [BIN, 'up', '--data', data, '--port', '0', '--broker-port', '0', '--cars', String(o.cars), '--speedup', String(o.speedup), '--seed', String(o.seed ?? 7), ...(o.extra ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env },
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const deadline = Date.now() + (o.readyMs ?? 150_000);
  while (!out.includes('ready; Ctrl-C stops everything')) {
    if (child.exitCode !== null) throw new Error(`smartcar up exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`smartcar up not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const m = /console\s+http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+)/.exec(out);
  if (!m) throw new Error(`no console URL in the banner:\n${out}`);
  const port = Number(m[1]);
  const p: Platform = {
    data, port, token: m[2], base: `http://127.0.0.1:${port}`, child,
    out: () => out,
    async cli(args, env) {
      try {
        const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 120_000 });
        return { stdout: r.stdout, stderr: r.stderr, code: 0 };
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; code?: number };
        return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
        await new Promise((r) => child.once('exit', r));
        clearTimeout(t);
      }
      // Whatever the lock still names (a forced stop) is ended too.
      try {
        const lock = JSON.parse(fs.readFileSync(path.join(data, 'state', 'platform.lock'), 'utf8')) as { children?: Record<string, number> };
        for (const pid of Object.values(lock.children ?? {})) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
        }
      } catch { /* no lock left: a clean stop */ }
      if (!process.env.SMARTCAR_KEEP_DATA) fs.rmSync(data, { recursive: true, force: true });
    },
  };
  return p;
}

/** Chromium with a fresh profile (playwright passes it as --user-data-dir). */
export async function launchChromium(): Promise<{ context: BrowserContext; profile: string; close(): Promise<void> }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return { context, profile, async close() { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); } };
}

export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
