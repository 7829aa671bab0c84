/**
 * `smartcar ml`: the analysis role (Mahout, Spark ML, R, TensorFlow in the original). Two files register
 * the subcommands: `analysis-cli.ts` (recommend, classify, cluster) and `models-cli.ts` (regress, dnn).
 * Like every cli.ts they stay light: models load inside the action handlers.
 */
import type { Command } from 'commander';
import { registerAnalysis } from './analysis-cli.ts';
import { registerModels } from './models-cli.ts';

export function register(program: Command): void {
  const ml = program
    .command('ml')
    .description('Analyse the marts: recommendation, classification, clustering, regression, a neural network')
    .addHelpText('after', `
Examples:
  $ smartcar ml recommend --month 202003
  $ smartcar ml dnn train --epochs 50 --seed 1`);
  registerAnalysis(ml);
  registerModels(ml);
}
