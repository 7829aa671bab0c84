/**
 * The shared kernel every role builds on: configuration and backend choice, errors and how a command
 * reports them, logs, metrics, the HTTP router for /health and /metrics, shutdown, data paths, and the
 * record formats of the car logs. It imports no role.
 */
export * from './backends.ts';
export * from './config.ts';
export * from './errors.ts';
export * from './fail.ts';
export * from './files.ts';
export * from './http.ts';
export * from './log.ts';
export * from './metrics.ts';
export * from './net.ts';
export * from './options.ts';
export * from './parent.ts';
export * from './process.ts';
export * from './package.ts';
export * from './paths.ts';
export * from './progress.ts';
export * from './records.ts';
export * from './scram.ts';
export * from './shutdown.ts';
export * from './time.ts';
export * from './width.ts';
