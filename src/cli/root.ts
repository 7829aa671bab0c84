/** The root command of `smartcar` (name, version, help), before any role registered its commands. */
import { Command } from 'commander';

export function rootCommand(): Command {
  return new Command('smartcar')
    .description('Collect, stream, store and analyse telemetry from a fleet of connected cars.')
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `
Examples (quick start):
  $ npx smartcar up                         # the whole platform on embedded defaults
  $ npx smartcar status                     # health, throughput, latest alerts
  $ npx smartcar overspeed --date 20240101  # cars over the speed rule that day
  $ npx smartcar sql "select * from managed_smartcar_emergency_check_info limit 10"`);
}
