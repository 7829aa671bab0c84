/** Runs the `smartcar` command line (see program.ts for the command tree). */
import { CommanderError, type Command } from 'commander';
import { reportFailure, watchSupervisor } from '../core/cli.ts';
import { rootCommand } from './root.ts';

export async function main(argv: string[]): Promise<void> {
  // `smartcar … | head`: a closed pipe ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // An error thrown outside the command's own promise (a client's event handler, a timer) is still one line.
  const fatal = (err: unknown) => {
    const code = reportFailure(err);
    process.exit(code);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  watchSupervisor();
  const program = argv[2] === 'export' ? await exportProgram() : (await import('./program.ts')).buildProgram();
  // Every command, subcommands included (they do not inherit it once created), throws instead of exiting.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander printed the usage error already; --help and --version end with 0.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportFailure(err);
  }
}

/**
 * `smartcar export …` registers its own command only: the other roles' registrations, and zod which
 * their option schemas load, cost about 100 ms a call, which an export compared with psql cannot spare.
 */
async function exportProgram(): Promise<Command> {
  const program = rootCommand();
  (await import('../export/cli.ts')).register(program);
  return program;
}

await main(process.argv);
