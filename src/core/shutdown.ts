/**
 * Clean shutdown on Ctrl-C / SIGTERM: the first signal runs the registered stop handlers (last
 * registered first, so dependents stop before what they depend on) and exits 0; a second signal
 * forces an immediate exit (130).
 */
type Stop = () => Promise<void> | void;

const handlers: Stop[] = [];
let stopping = false;
let installed = false;

export function onShutdown(stop: Stop): void {
  handlers.push(stop);
  if (installed) return;
  installed = true;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`\n${signal} again: forcing exit\n`);
      process.exit(130);
    }
    stopping = true;
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

export function isStopping(): boolean {
  return stopping;
}

/** Runs every stop handler once, newest first. */
export async function runShutdown(): Promise<void> {
  stopping = true;
  while (handlers.length) await handlers.pop()!();
}
