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
