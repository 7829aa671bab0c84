/** `smartcar stream`: the command of the real-time topology. */
import type { Command } from 'commander';
import { UserError } from '../core/cli.ts';

export function register(program: Command): void {
  program
    .command('stream')
    .description('Run the real-time driving topology: bus → parse → table store, and bus → CEP rules → hot store')
    .option('--config <file>', 'root config file (default ./smartcar.config.json)')
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .option('--kafka <servers>', 'bootstrap servers host:port,… (default: the embedded broker at 127.0.0.1:9092)')
    .option('--redis <url>', 'hot store in Redis (default: embedded under the data directory)')
    .option('--postgres <url>', 'table store in PostgreSQL (default: embedded LMDB under the data directory)')
    .option('--rules <dir>', 'directory of *.epl rules, hot-reloaded (default <data>/rules, seeded from the shipped rules)')
    .option('--group <id>', 'consumer group; more processes in one group share the partitions', 'smartcar-stream')
    .option('--parallelism <n>', 'group members in this process', '1')
    .option('--lateness <ms>', 'allowed lateness of events, event-time ms', '0')
    .option('--session-timeout <ms>', 'group session timeout: a dead worker\'s partitions move after this', '30000')
    .option('--idle-close <ms>', 'close a partition\'s open windows after this much wall time without input (longer than an upstream restart)', '60000')
    .option('--metrics-port <n>', 'serve /metrics (Prometheus) and /health on 127.0.0.1:<n>; 0 picks a free port (default: none)')
    .option('--lag-interval <ms>', 'how often consumer lag per partition is sampled', '5000')
    .addHelpText('after', `
Every record is stored in table DriverCarInfo (row key = reversed timestamp-car); every car whose
30-second event-time average speed breaks a rule is added to the hot store's day set for 7 days.
Offsets are committed only after those writes, so a crash or rebalance never loses a record.

Examples:
  $ smartcar stream                                   # embedded broker, LMDB, embedded hot store
  $ smartcar stream --redis redis://127.0.0.1:6379 --postgres postgres://127.0.0.1/test
  $ smartcar stream --kafka k1:9092,k2:9092 --parallelism 2
  $ smartcar stream --metrics-port 9400                # Prometheus scrapes 127.0.0.1:9400/metrics
  $ sed -i 's/> 80/> 100/' smartcar-data/rules/overspeed.epl   # the rule changes live, no restart`)
    .action(async (o) => {
      const parallelism = Number(o.parallelism);
      if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 64) throw new UserError('--parallelism must be an integer 1..64');
      const metricsPort = o.metricsPort === undefined ? undefined : Number(o.metricsPort);
      if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65_535)) {
        throw new UserError(`--metrics-port must be a port number 0..65535 (0 = a free port), got '${o.metricsPort}'`);
      }
      const lagInterval = Number(o.lagInterval);
      if (!Number.isInteger(lagInterval) || lagInterval < 100) throw new UserError(`--lag-interval must be an integer number of ms >= 100, got '${o.lagInterval}'`);
      const { runStreamCommand } = await import('./run.ts');
      await runStreamCommand({ ...o, parallelism, lateness: Number(o.lateness), idleClose: Number(o.idleClose), sessionTimeout: Number(o.sessionTimeout), metricsPort, lagInterval });
    });
}
