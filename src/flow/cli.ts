/** `smartcar workflow list | run | backfill | history | scheduler`: the commands of the workflow role. */
import type { Command } from 'commander';
import { checkDate8, checkMonth6, day8 } from '../core/cli.ts';

/** `--day`: a yyyyMMdd day, or a yyyyMM month (the buylist workflow is monthly). */
const dayOrMonth = (v: string): string => (/^\d{6}$/.test(v) ? checkMonth6(v, '--day') : checkDate8(v, '--day'));

const common = (c: Command) =>
  c.option('--data <dir>', 'data directory (default ./smartcar-data)')
    .option('--workflows <dir>', 'your workflow definitions (*.json), beside the shipped ones')
    .option('--config <file>', 'root config file');

export function register(program: Command): void {
  const wf = program
    .command('workflow')
    .description('Daily workflows that build the data marts (the Oozie role): run, backfill, schedule, history')
    .addHelpText('after', `
Shipped workflows: status, drive, symptom, emergency-check, buylist (see docs/flow.md).

Examples:
  $ smartcar workflow list
  $ smartcar workflow run emergency-check --day 20240101
  $ smartcar workflow backfill status --from 20240101 --to 20240131
  $ smartcar workflow history emergency-check --limit 5
  $ smartcar workflow scheduler          # run every workflow on its cron schedule until Ctrl-C`);

  common(wf.command('list').description('Workflows, their schedules and steps'))
    .addHelpText('after', `
Examples:
  $ smartcar workflow list
  $ smartcar workflow list --workflows my-workflows/    # yours beside the shipped ones`)
    .action(async (o) => {
    const { listWorkflows } = await import('./commands.ts');
    await listWorkflows(o);
  });

  common(wf.command('run').description('Run a workflow for one working day'))
    .argument('<name>')
    .option('--day <yyyyMMdd>', 'working day (default: yesterday; yyyyMM for the monthly buylist)', dayOrMonth)
    .addHelpText('after', `
Ctrl-C stops the run: it is recorded as interrupted in the history and its partial partition is removed.

Examples:
  $ smartcar workflow run emergency-check --day $(date +%Y%m%d)
  $ smartcar workflow run buylist --day 202003`)
    .action(async (name: string, o) => {
      const { runOne } = await import('./commands.ts');
      process.exitCode = await runOne(name, o);
    });

  common(wf.command('backfill').description('Run a workflow for every day of a range, in order'))
    .argument('<name>')
    .requiredOption('--from <yyyyMMdd>', 'first day', day8('--from'))
    .requiredOption('--to <yyyyMMdd>', 'last day (inclusive)', day8('--to'))
    .addHelpText('after', `
Example:
  $ smartcar workflow backfill status --from 20240101 --to 20240131`)
    .action(async (name: string, o) => {
      const { backfill } = await import('./commands.ts');
      process.exitCode = await backfill(name, o);
    });

  common(wf.command('history').description('Past runs: state, timings, rows, checks and errors'))
    .argument('[name]')
    .option('--limit <n>', 'newest n runs', '20')
    .option('--verbose', 'every step with its log')
    .option('--json', 'one run per line, as stored')
    .addHelpText('after', `
Examples:
  $ smartcar workflow history emergency-check --limit 5
  $ smartcar workflow history --json | jq -c '{workflow, day, state}'`)
    .action(async (name: string | undefined, o) => {
      const { history } = await import('./commands.ts');
      await history(name, o);
    });

  common(wf.command('scheduler').description('Run the scheduled workflows until stopped (Ctrl-C)'))
    .option('--metrics-port <port>', 'serve /metrics and /health on 127.0.0.1 (0 = any free port, printed)')
    .addHelpText('after', `
Example:
  $ smartcar workflow scheduler --data smartcar-data      # what smartcar up runs; Ctrl-C stops it`)
    .action(async (o) => {
    const { schedulerForeground } = await import('./commands.ts');
    await schedulerForeground(o);
  });
}
