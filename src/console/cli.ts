/** `smartcar console`: the command of the web console. */
import type { Command } from 'commander';
import { int } from '../core/cli.ts';

/** `smartcar console`: the web console over a data directory, without the rest of the platform. */
export function register(program: Command): void {
  program
    .command('console')
    .description('Serve the web console (lake, topics, tables, notebooks, workflows, rules, alerts) over a data directory')
    .option('--config <file>', 'root config file')
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .option('--host <addr>', 'address to listen on; anything but loopback needs SMARTCAR_CONSOLE_TOKEN', '127.0.0.1')
    .option('--port <p>', 'HTTP port (default 8080; 0 = any free port)', int('--port', 0, 65535))
    .option('--kafka <servers>', 'bootstrap servers of the bus for the Topics page (default: the embedded broker)')
    .option('--redis <url>', 'hot store in Redis (default: embedded under the data directory)')
    .option('--postgres <url>', 'table store in PostgreSQL (default: embedded LMDB under the data directory)')
    .addHelpText('after', `
\`smartcar up\` already serves the console on its port; this command serves it alone (say, over a
copy of a data directory). Changes (puts, runs, rule saves) need the token printed in the URL, from
<data>/state/console-token or SMARTCAR_CONSOLE_TOKEN.

Examples:
  $ smartcar console --data smartcar-data
  $ smartcar console --data /srv/smartcar --port 9000
  $ SMARTCAR_CONSOLE_TOKEN=$(openssl rand -hex 24) smartcar console --host 0.0.0.0`)
    .action(async (o) => {
      const { runConsole } = await import('./run.ts');
      await runConsole(o);
    });
}
