/**
 * Structured logs (pino, JSON lines on stderr). Level from SMARTCAR_LOG_LEVEL (default `info`;
 * `silent` in tests). Each component asks for a child logger named after itself.
 */
import { pino, type Logger } from 'pino';

const level = process.env.SMARTCAR_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');

export const rootLogger: Logger = pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));

export function createLogger(component: string): Logger {
  return rootLogger.child({ component });
}

export type { Logger };
