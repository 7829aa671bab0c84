/**
 * Every failure the command line reports is one line: `smartcar: <what failed, where, what to do>`.
 * A UserError says it already; for anything else (a Node errno error from a path the user gave, a
 * connection that never came up, a library's own error) `describeError` writes that line and picks
 * the exit code: 2 for usage and input (a path, a busy port, a service given by flag that is not
 * there), 1 for runtime failures. The stack is printed only with SMARTCAR_DEBUG=1.
 */
import { UserError } from './errors.ts';

export interface Failure {
  message: string;
  exitCode: number;
}

/** Hides the password of every URL in a text (`scheme://user:secret@host` → `scheme://user:***@host`): the one redaction of banners, logs and errors. */
export function redactUrls(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@');
}

const PATH_ERRORS: Record<string, (p: string, op: string) => string> = {
  ENOENT: (p) => `${p}: no such file or directory`,
  EISDIR: (p) => `${p} is a directory; give a file`,
  ENOTDIR: (p) => `${p}: a part of this path is not a directory`,
  EEXIST: (p, op) => (op === 'mkdir' ? `${p} is a file, not a directory` : `${p} exists already`),
  EACCES: (p, op) => `${p}: permission denied (${op})`,
  EPERM: (p, op) => `${p}: operation not permitted (${op})`,
  EROFS: (p) => `${p}: read-only file system`,
  ENOSPC: (p) => `${p}: no space left on the device; free some space and run again`,
  ENAMETOOLONG: (p) => `${p}: file name too long`,
};

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

export function describeError(err: unknown): Failure {
  if (err instanceof UserError) return { message: redactUrls(err.message), exitCode: err.exitCode };
  if (!(err instanceof Error)) return { message: redactUrls(String(err)), exitCode: 1 };
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; code?: string };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && e.path && PATH_ERRORS[code]) return { message: PATH_ERRORS[code](e.path, e.syscall ?? 'open'), exitCode: 2 };
  if (code === 'EADDRINUSE') return { message: `address ${e.address ?? ''}${e.port !== undefined ? `:${e.port}` : ''} is in use; choose another port`, exitCode: 2 };
  if (code === 'ENOSPC') return { message: `no space left on the device (${e.syscall ?? 'write'}); free some space and run again`, exitCode: 1 };
  if (code && CONNECT_CODES.has(code)) {
    const where = e.address ? `${e.address}${e.port !== undefined ? `:${e.port}` : ''}` : 'the service';
    return { message: `cannot connect to ${where} (${code}); check that it runs and the address given by flag`, exitCode: 2 };
  }
  // Library errors that mean "the service given by flag is not there".
  if (e.name === 'MaxRetriesPerRequestError') return { message: `Redis is not reachable: ${e.message}; check --redis`, exitCode: 2 };
  if (e.name === 'ProduceError' && (e as { errorName?: string }).errorName === 'CONNECTION_ERROR') {
    return { message: `${redactUrls(e.message)}; check that Kafka runs there and the addresses of --kafka`, exitCode: 2 };
  }
  // Credentials refused by the broker: the input is wrong (the environment's SASL user or password).
  if ((e.name === 'ProduceError' && (e as { errorName?: string }).errorName === 'SASL_AUTHENTICATION_FAILED') || e.name === 'KafkaJSSASLAuthenticationError') {
    return { message: `${e.message}; check SMARTCAR_BROKER_USER / SMARTCAR_BROKER_PASSWORD`, exitCode: 2 };
  }
  if (/^KafkaJS(Connection|NumberOfRetriesExceeded|Broker(NotFound)?)Error$/.test(e.name)) return { message: `Kafka is not reachable: ${redactUrls(e.message)}; check --kafka`, exitCode: 2 };
  return { message: redactUrls(`${e.message}${code && !e.message.includes(code) ? ` (${code})` : ''}`), exitCode: 1 };
}

/** Prints the one line (and the stack with SMARTCAR_DEBUG=1); returns the exit code. */
export function reportFailure(err: unknown): number {
  const f = describeError(err);
  const first = f.message.split('\n');
  process.stderr.write(`smartcar: ${first.join('\n')}\n`);
  if (process.env.SMARTCAR_DEBUG && err instanceof Error && !(err instanceof UserError)) process.stderr.write(`${err.stack}\n`);
  return f.exitCode;
}
