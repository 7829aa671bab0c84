/**
 * Structured logs (pino, JSON lines on stderr). Level from SMARTCAR_LOG_LEVEL (default `warn` for
 * one-shot commands, `info` for supervised components, `silent` in tests). Each component asks for a child logger named after itself.
 */
import { pino, type Logger } from 'pino';

// One-shot commands stay quiet (warnings and errors); supervised components and daemons log at info.
const level = process.env.SMARTCAR_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : process.env.SMARTCAR_COMPONENT ? 'info' : 'warn');

/**
 * A log that cannot be written (a full disk under a log file, a closed stderr) must not take the
 * process down: pino's destination emits 'error' and, unheard, that is an uncaught exception. The lines
 * stay buffered and go out with the next write that succeeds.
 */
function tolerant<T extends { on(event: 'error', f: (err: Error) => void): unknown }>(dest: T): T {
  dest.on('error', () => {});
  return dest;
}

// Writes go through a switchable stream, so a command can move its log to a file after start.
let current = tolerant(pino.destination({ fd: 2, sync: false }));
const destination = { write: (line: string) => current.write(line) };
export const rootLogger: Logger = pino({ level, base: { pid: process.pid } }, destination);

/**
 * Sends this process's JSON log lines to a file instead of stderr, so a terminal command (`smartcar up`)
 * keeps its terminal human-readable and its log beside its children's.
 */
export function logToFile(file: string): void {
  const old = current;
  current = tolerant(pino.destination({ dest: file, sync: false, mkdir: true }));
  old.flush();
}

export function createLogger(component: string): Logger {
  return rootLogger.child({ component });
}

export type { Logger };
