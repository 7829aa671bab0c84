import type { Command } from 'commander';

/** `smartcar ml regress | dnn`. */
export function registerModels(_ml: Command): void {}
