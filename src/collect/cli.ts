/** `smartcar agent …`: the commands of the collection role (run an agent, list and describe its components). */
import type { Command } from 'commander';
import { UserError } from '../core/cli.ts';

export function register(program: Command): void {
  program
    .command('agent')
    .description('Run a collection agent (the Flume role): sources → interceptors → channels → sinks')
    .option('-n, --name <agent>', 'the agent to run (the prefix of its keys in the file); required')
    .option('-f, --conf-file <file>', 'agent definition: Flume .properties, or .json; required')
    .option('-c, --conf <dir>', 'Flume\'s configuration directory (accepted for compatibility; unused)')
    .option('--data <dir>', 'data directory: relative paths in the agent file resolve against it (default ./smartcar-data)')
    .option('--kafka <servers>', 'bus bootstrap servers for Kafka sinks without brokerList (default: the embedded broker)')
    .option('--config <file>', 'root config file (default ./smartcar.config.json)')
    .option('--metrics-port <n>', 'serve /metrics and /health on 127.0.0.1:<n> (0 = a free port; the address is printed)')
    .option('--lenient', 'unknown properties are warnings, not errors (Flume ignores them silently)')
    .option('--check', 'validate the agent file and exit')
    .option('--status', 'print the status of the agent running with this name and data directory, then exit')
    .option('--describe [type]', 'list the component types, or print the properties of one (type, default, allowed values), then exit')
    .allowUnknownOption(true)
    .addHelpText('after', `
Flume agent files run unchanged (Flume class names are accepted as types). \`--describe\` lists the
supported sources, interceptors, channels and sinks, as registered, with their aliases and properties.
Lines no component can process go to <data>/dead-letter/ with the reason. See docs/collect.md.

Examples:
  $ smartcar agent -n SmartCar_Agent -f agents/smartcar-agent.properties           # the original's two flows
  $ smartcar agent -n SmartCar_Agent -f agents/smartcar-agent.properties --check   # validate only
  $ smartcar agent -n SmartCar_Agent -f agents/smartcar-agent.properties --status  # counters of the running agent
  $ smartcar agent -n a1 -f flume.conf --metrics-port 9401 && curl 127.0.0.1:9401/metrics
  $ smartcar agent --describe                 # every source, interceptor, channel and sink type
  $ smartcar agent --describe spooldir        # its properties: type, default, allowed values, required`)
    .action(async (o, cmd: Command) => {
      const unknown = cmd.args.filter((a) => a.startsWith('-') && !a.startsWith('-D'));
      if (unknown.length) throw new UserError(`unknown option ${unknown[0]} (add --help for usage)`);
      if (o.describe !== undefined) {
        const { describeCommand } = await import('./describe.ts');
        process.stdout.write(describeCommand(o.describe === true ? undefined : String(o.describe)));
        return;
      }
      for (const [key, flags] of [['name', '-n, --name <agent>'], ['confFile', '-f, --conf-file <file>']] as const) {
        if (o[key] === undefined) cmd.error(`error: required option '${flags}' not specified`, { code: 'commander.missingMandatoryOptionValue', exitCode: 1 });
      }
      let metricsPort: number | undefined;
      if (o.metricsPort !== undefined) {
        metricsPort = Number(o.metricsPort);
        if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) throw new UserError(`--metrics-port must be 0..65535, got '${o.metricsPort}'`);
      }
      const { runAgentCommand } = await import('./run.ts');
      await runAgentCommand({ name: o.name, file: o.confFile, data: o.data, kafka: o.kafka, config: o.config, metricsPort, lenient: !!o.lenient, check: !!o.check, status: !!o.status });
    });
}
