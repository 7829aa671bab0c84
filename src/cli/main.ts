/** Runs the `smartcar` command line (see program.ts for the command tree). */
import { CommanderError } from 'commander';
import { UserError } from '../core/errors.ts';
import { buildProgram } from './program.ts';
import { watchSupervisor } from '../core/parent.ts';

export async function main(argv: string[]): Promise<void> {
  // `smartcar … | head`: a closed pipe ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  watchSupervisor();
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof UserError) {
      process.stderr.write(`smartcar: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}

await main(process.argv);
