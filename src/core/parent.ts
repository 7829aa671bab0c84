/**
 * Supervised children never outlive their supervisor. Node has no PR_SET_PDEATHSIG, so a child of
 * `smartcar up` (env SMARTCAR_SUPERVISOR_PID) watches two things:
 *
 *   - its stdin, a pipe whose write end only the supervisor holds: the kernel closes it when the
 *     supervisor dies by any means, SIGKILL included, and the child reads end-of-file at once;
 *   - its parent pid, checked every 250 ms (a re-parented child sees another ppid), in case stdin is
 *     not that pipe.
 *
 * Either way the child runs its normal shutdown (the same as SIGTERM) and exits within `graceMs`
 * even if that shutdown hangs: what a component acknowledged is durable already (kill -9 of any one
 * component loses nothing), so a forced exit after the grace period is safe.
 */
import { runShutdown } from './shutdown.ts';

let watching = false;

export function watchSupervisor(graceMs = 1500): void {
  const expected = Number(process.env.SMARTCAR_SUPERVISOR_PID);
  const viaStdin = process.env.SMARTCAR_SUPERVISOR_STDIN === '1';
  // Whatever this process spawns in turn has another parent: it must not inherit the watch.
  delete process.env.SMARTCAR_SUPERVISOR_PID;
  delete process.env.SMARTCAR_SUPERVISOR_STDIN;
  if (watching || !Number.isInteger(expected) || expected <= 1) return;
  watching = true;
  let gone = false;
  const onGone = (how: string) => {
    if (gone) return;
    gone = true;
    clearInterval(timer);
    try {
      process.stderr.write(`smartcar: the supervisor (pid ${expected}) is gone (${how}): stopping\n`);
    } catch {
      // stderr may be closed too; stopping matters more.
    }
    setTimeout(() => process.exit(1), graceMs).unref();
    void runShutdown().then(() => process.exit(0), () => process.exit(1));
  };
  if (process.ppid !== expected) { onGone('already re-parented'); return; }
  const timer = setInterval(() => { if (process.ppid !== expected) onGone(`parent pid is now ${process.ppid}`); }, 250);
  timer.unref();
  if (viaStdin && !process.stdin.isTTY) {
    const stdin = process.stdin;
    stdin.on('end', () => onGone('its pipe closed'));
    stdin.on('error', () => onGone('its pipe failed'));
    stdin.on('data', () => {});
    stdin.resume();
    // Reading the pipe must not keep an otherwise finished command alive.
    (stdin as unknown as { unref?: () => void }).unref?.();
  }
}
