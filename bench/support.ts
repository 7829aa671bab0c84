/** Shared by the benchmarks: the `smartcar` binary and the embedded broker as its own process. */
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SMARTCAR_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/smartcar.js');

/** `smartcar broker` on a free port with its log in `dataDir`; resolves once it listens. */
export async function brokerProcess(dataDir: string, partitions = 4): Promise<{ addr: string; stop(): Promise<void> }> {
  const p = spawn(process.execPath, [SMARTCAR_BIN, 'broker', '--port', '0', '--data', dataDir, '--partitions', String(partitions)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SMARTCAR_LOG_LEVEL: 'warn' } });
  const addr = await new Promise<string>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening\s+(\S+:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    p.once('exit', (code) => reject(new Error(`broker exited ${code}`)));
  });
  return { addr, stop: () => new Promise((r) => { p.once('exit', () => r()); p.kill('SIGTERM'); }) };
}
