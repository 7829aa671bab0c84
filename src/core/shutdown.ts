/**
 * Clean shutdown on Ctrl-C / SIGTERM: the first signal runs the registered stop handlers (last
 * registered first, so dependents stop before what they depend on) and exits 0; a second signal
 * forces an immediate exit (130).
 *
 * A repeat that arrives within REPEAT_MS of the first is the same request, not a second one:
 * `timeout N cmd` signals both the process and its process group, so one stop arrives twice.
 */
type Stop = () => Promise<void> | void;

const handlers: Stop[] = [];
let stopping = false;
let installed = false;
let firstAt = 0;

/** A second signal this soon after the first is taken as the same request. */
const REPEAT_MS = 100;

export function onShutdown(stop: Stop): void {
  handlers.push(stop);
  if (installed) return;
  installed = true;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      if (Date.now() - firstAt < REPEAT_MS) return;
      process.stderr.write(`\n${signal} again: forcing exit\n`);
      process.exit(130);
    }
    stopping = true;
    firstAt = Date.now();
    void runShutdown().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

/** Runs every stop handler once, newest first. */
export async function runShutdown(): Promise<void> {
  if (!stopping) firstAt = Date.now();
  stopping = true;
  while (handlers.length) await handlers.pop()!();
}
