/**
 * Progress bars for long work (cli-progress). Silent when stderr is not a terminal, so piped and
 * CI output stays clean.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  increment(by?: number): void;
  stop(): void;
}

const silent: Progress = { update() {}, increment() {}, stop() {} };

export function progressBar(label: string, total: number, unit = 'items', enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return silent;
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    increment: (by = 1) => bar.increment(by),
    stop: () => bar.stop(),
  };
}
