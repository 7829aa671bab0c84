/** `smartcar rules …`: the commands of the CEP role (check and test the rule files). */
import type { Command } from 'commander';

export function register(program: Command): void {
  const rules = program
    .command('rules')
    .description('Check EPL rule files, or try them on a driving log before deploying')
    .addHelpText('after', `
Examples:
  $ smartcar rules check rules/*.epl
  $ smartcar gen driver --cars 100 --date 20240101 --records 3600 --fast --seed 1 --out /tmp/hour.log
  $ smartcar rules test rules/overspeed.epl --input /tmp/hour.log --format table`);

  rules
    .command('check')
    .description('Parse and type-check rule files; print each statement, or the error with line and column')
    .argument('<files...>', '*.epl files')
    .addHelpText('after', `
Example:
  $ smartcar rules check rules/*.epl`)
    .action(async (files: string[]) => {
      const { checkRules } = await import('./run.ts');
      process.exitCode = checkRules(files);
    });

  rules
    .command('test')
    .description('Replay a driving log through rules (event time) and print what they output')
    .argument('<files...>', '*.epl files')
    .requiredOption('--input <file>', 'driving log (SmartCarDriverInfo.log format); bad lines are counted and skipped')
    .option('--format <fmt>', 'table | json (one row per line)', 'table')
    .option('--lateness <ms>', 'allowed lateness in event-time ms', '0')
    .addHelpText('after', `
Example:
  $ smartcar gen driver --cars 100 --date 20240101 --records 3600 --fast --seed 1 --out /tmp/hour.log
  $ smartcar rules test rules/overspeed.epl --input /tmp/hour.log --format table`)
    .action(async (files: string[], o) => {
      const { testRules } = await import('./run.ts');
      await testRules(files, o.input, o.format, Number(o.lateness));
    });
}
