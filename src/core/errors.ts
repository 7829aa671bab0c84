import { statSync } from 'node:fs';
/**
 * An error meant for the person at the terminal: the CLI prints its message (no stack) and exits
 * with `exitCode`. Say what failed, where, and what to do.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks that `file`, given by the user (as `what`: '--input', 'the master file'…), is a readable
 * regular file; one line saying what it is instead.
 */
export function checkInputFile(file: string, what: string): void {
  let st: import('node:fs').Stats;
  try {
    st = statSync(file);
  } catch {
    throw new UserError(`${what} ${file} does not exist`);
  }
  if (st.isDirectory()) throw new UserError(`${what} ${file} is a directory; give a file`);
  if (!st.isFile()) throw new UserError(`${what} ${file} is not a regular file`);
}
