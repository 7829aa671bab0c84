/** `smartcar up`, `status`, `sim`: the commands of the platform (the supervisor of every role). */
import { Command, Option } from 'commander';
import { MAX_CARS, date8, int, positive, rate } from '../core/cli.ts';


/** `smartcar up`, `smartcar status`, and `smartcar sim` (the simulator as `up` runs it). */
export function register(program: Command): void {
  program
    .command('up')
    .description('Run the whole platform, supervised: broker, collection agent, stream, workflow scheduler and the simulator')
    .option('--config <file>', 'root config file (default ./smartcar.config.json)')
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .option('--cars <n>', 'simulated fleet size', int('--cars', 1, MAX_CARS), 100)
    .option('--speedup <x>', 'simulated seconds per wall second', positive('--speedup'), 1)
    .option('--seed <n>', 'simulator seed (same seed → same data)', int('--seed', 0, 2 ** 31 - 1))
    .option('--date <yyyyMMdd>', 'first simulated day (default: today)', date8)
    .option('--garbage <rate>', 'malformed driving lines per record the simulator mixes in', rate)
    .option('--status-cars <n>', 'cars in each simulated status day file (default min(cars, 100))', int('--status-cars', 1, MAX_CARS))
    .option('--no-sim', 'no simulator: feed the spool and the driving log yourself')
    .addOption(new Option('--kafka [servers]', 'use an external Kafka cluster instead of the embedded broker').preset('127.0.0.1:9092'))
    .addOption(new Option('--redis [url]', 'hot store in Redis instead of embedded').preset('redis://127.0.0.1:6379'))
    .addOption(new Option('--postgres [url]', 'table store in PostgreSQL instead of LMDB').preset('postgres://127.0.0.1:5432/test'))
    .option('--port <p>', 'HTTP port of /health, /metrics and the web console on 127.0.0.1 (0 = any free port)', int('--port', 0, 65535))
    .option('--broker-port <p>', 'port of the embedded broker (default 9092; 0 = any free port)', int('--broker-port', 0, 65535))
    .option('--broker-host <addr>', 'address of the embedded broker (default 127.0.0.1); another needs SMARTCAR_BROKER_PASSWORD, which every component then presents')
    .option('--sql-port <p>', 'port of the SQL server for psql / R / JDBC (default 10000; 0 = any free port)', int('--sql-port', 0, 65535))
    .option('--predict-port <p>', 'port of the prediction service, started once a model exists (default 9001; 0 = any free port)', int('--predict-port', 0, 65535))
    .addHelpText('after', `
Starts, in order: broker → stream, agent → workflow scheduler → simulator; a component that dies is
restarted with exponential backoff. Ctrl-C stops them in reverse order (the agent drains, the stream
commits) and exits 0; a second Ctrl-C forces. Run it again on the same --data to resume.

Examples:
  $ smartcar up                                      # 100 cars in real time, embedded everything
  $ smartcar up --cars 1000 --speedup 20 --seed 1
  $ smartcar up --redis --postgres                   # Redis and PostgreSQL on localhost
  $ smartcar up --no-sim --kafka k1:9092,k2:9092
  $ SMARTCAR_BROKER_PASSWORD=secret smartcar up --broker-host 10.0.0.5   # SASL for other hosts
  $ smartcar status                                  # from another terminal`)
    .action(async (o) => {
      const { runUp } = await import('./up.ts');
      const { loadRootConfig } = await import('../core/index.ts');
      const port = o.port ?? loadRootConfig(o.config).console.port;
      await runUp({ ...o, port, sim: o.sim !== false });
    });

  program
    .command('status')
    .description('Health, throughput, lag and the latest alerts of a running `smartcar up`')
    .option('--config <file>', 'root config file')
    .option('--data <dir>', 'data directory of the platform (its lock file names the HTTP port)')
    .option('--port <p>', 'HTTP port of the platform (default: from the lock file, else 8080)', int('--port', 1, 65535))
    .option('--interval <s>', 'seconds between the two samples used for rates', positive('--interval'), 1)
    .option('--json', 'one JSON object: health, rates, lag, stream totals and alerts')
    .addHelpText('after', `
Exits 0 when every component is up, 1 when one is down, 3 when the platform is not running.

Examples:
  $ smartcar status
  $ smartcar status --data /srv/smartcar --json | jq .health.status`)
    .action(async (o) => {
      const { runStatus } = await import('./status.ts');
      process.exitCode = await runStatus(o);
    });

  program
    .command('sim')
    .description('Simulate the fleet into a data directory, resuming where it stopped (what `smartcar up` runs)')
    .requiredOption('--data <dir>', 'data directory: the driving log and the spool under it')
    .option('--cars <n>', 'fleet size (a resumed data directory keeps its own)', int('--cars', 1, MAX_CARS), 100)
    .option('--speedup <x>', 'simulated seconds per wall second', positive('--speedup'), 1)
    .option('--seed <n>', 'seed of a new simulation', int('--seed', 0, 2 ** 31 - 1))
    .option('--date <yyyyMMdd>', 'first simulated day of a new simulation (default: now)', date8)
    .option('--garbage <rate>', 'malformed lines per record', rate)
    .option('--status-cars <n>', 'cars in each status day file (default min(cars, 100))', int('--status-cars', 1, MAX_CARS))
    .option('--no-status', 'no status day files')
    .option('--metrics-port <p>', 'serve /metrics and /health on 127.0.0.1 (0 = any free port, printed)', int('--metrics-port', 0, 65535))
    .addHelpText('after', `
Example:
  $ smartcar sim --data smartcar-data --cars 100 --speedup 20 --seed 1`)
    .action(async (o) => {
      const { runSim } = await import('./sim.ts');
      const { onShutdown } = await import('../core/index.ts');
      if (o.metricsPort !== undefined) {
        const { serveStatus } = await import('../core/index.ts');
        const s = await serveStatus({ port: o.metricsPort });
        process.stdout.write(`metrics listening ${s.host}:${s.port}\n`);
      }
      const ac = new AbortController();
      let finished: Promise<void> = Promise.resolve();
      onShutdown(async () => { ac.abort(); await finished; });
      finished = runSim({ ...o, noStatus: o.status === false, signal: ac.signal });
      await finished;
    });
}
