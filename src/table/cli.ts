import type { Command } from 'commander';

/** Commands of this role; filled in by the issue that builds it. */
export function register(_program: Command): void {}
