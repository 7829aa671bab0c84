import type { Command } from 'commander';

/** `smartcar ml recommend | classify | cluster`. */
export function registerAnalysis(_ml: Command): void {}
