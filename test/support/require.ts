/**
 * Tools and services a test needs but a laptop may lack (kcat, Redis, PostgreSQL, …). No silent skips:
 * - with `CI` set, a missing one is an error: the test file fails to load, naming what is missing;
 * - otherwise the tests that need it are skipped and a loud line on stderr says which and why.
 * Use: `describe.skipIf(!needTool('kcat', ['-V'], 'kcat interop'))(…)`.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';

function missing(what: string, skipped: string, how: string): false {
  const msg = `${what} is not available (${how}): ${skipped}`;
  if (process.env.CI) throw new Error(`CI: ${msg} — CI must have it (see .ci/apt.d and .ci/run)`);
  process.stderr.write(`\n!!! SKIPPED: ${msg}. Install it to run these tests; CI fails instead of skipping.\n\n`);
  return false;
}

/** True when `cmd args` runs and exits 0. */
export function needTool(cmd: string, args: string[], skipped: string): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.status === 0 || missing(`'${cmd}'`, skipped, r.error ? r.error.message : `'${cmd} ${args.join(' ')}' exited ${r.status}`);
}

/** True when something accepts TCP connections on host:port. */
export async function needService(name: string, host: string, port: number, skipped: string): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port });
    const done = (v: boolean) => { s.destroy(); resolve(v); };
    s.setTimeout(5000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
  return ok || missing(name, skipped, `nothing listens on ${host}:${port}`);
}
