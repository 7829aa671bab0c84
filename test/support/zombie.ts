/**
 * A real zombie: `bash` starts a short `sleep` in the background and then execs a long one, which never reaps
 * it, so the short one, once exited, stays a zombie while the long one runs (it outlives bash's exec, so bash
 * cannot reap it first). Returns both pids and a stop().
 */
import { spawn } from 'node:child_process';

export async function makeZombie(): Promise<{ zombie: number; parent: number; stop(): void }> {
  const c = spawn('bash', ['-c', 'sleep 1 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const zombie = await new Promise<number>((resolve, reject) => {
    c.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    c.once('error', reject);
  });
  // Wait until the kernel shows it as a zombie (state Z).
  const fs = await import('node:fs');
  for (let i = 0; ; i++) {
    const stat = fs.readFileSync(`/proc/${zombie}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') break;
    if (i > 1000) throw new Error(`pid ${zombie} did not become a zombie within 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { zombie, parent: c.pid!, stop: () => c.kill('SIGKILL') };
}
