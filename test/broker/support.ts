import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-broker-${n}-`));

/** `smartcar broker` as a real process on a free port; resolves with its address once it listens. */
export function brokerProcess(dataDir: string, port = 0): Promise<{ proc: ChildProcess; addr: string; port: number }> {
  const proc = spawn(process.execPath, ['bin/smartcar.js', 'broker', '--port', String(port), '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' } });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\S+):(\d+)/.exec(out);
      if (m) resolve({ proc, addr: `${m[1]}:${m[2]}`, port: Number(m[2]) });
    });
    proc.stderr!.on('data', () => {});
    proc.once('exit', (code) => reject(new Error(`broker exited ${code}: ${out}`)));
  });
}

export const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

/**
 * A command run asynchronously (a broker in this process must keep answering while it runs), with its
 * output; killed after `timeoutMs`.
 */
export function runAsync(cmd: string, args: string[], o: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: o.env ?? process.env });
    let stdout = '', stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    p.on('exit', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    p.stdin!.end(o.input ?? '');
  });
}
