/**
 * Structured logs (pino, JSON lines on stderr). Level from SMARTCAR_LOG_LEVEL (default `warn` for
 * one-shot commands, `info` for supervised components, `silent` in tests). Each component asks for a child logger named after itself.
 */
import { pino, type Logger } from 'pino';

// One-shot commands stay quiet (warnings and errors); supervised components and daemons log at info.
const level = process.env.SMARTCAR_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : process.env.SMARTCAR_COMPONENT ? 'info' : 'warn');

export const rootLogger: Logger = pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));

export function createLogger(component: string): Logger {
  return rootLogger.child({ component });
}

export type { Logger };
