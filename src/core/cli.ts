/**
 * Core's light face, for the command line: what `src/cli/` and the roles' command registration need —
 * the option parsers, UserError, how a failure is reported, the supervisor watch, the fleet limit, the
 * data paths, the driving table's columns (for the lake's views, which the SQL engine opens without the
 * rest of core), and the root config loaded on first use. It loads no npm package: not even zod, which
 * the root config's schema needs (60–80 ms; `smartcar export --data DIR` never loads it), so
 * `smartcar --help` and a command's start stay fast; the rest of core (logs, metrics, HTTP, progress
 * bars) is in index.ts, which a command loads inside its action.
 */
import type { ConfigFlags, RootConfig } from './config.ts';

export * from './options.ts';
export { UserError } from './errors.ts';
export { reportFailure } from './fail.ts';
export { watchSupervisor } from './parent.ts';
export { MAX_CARS, DRIVER_COLUMNS, DRIVER_FAMILY } from './records.ts';
export { dataPaths } from './paths.ts';

/** loadRootConfig (config.ts), the config module and zod loaded on this first use. */
export async function rootConfig(file?: string): Promise<RootConfig> {
  return (await import('./config.ts')).loadRootConfig(file);
}

/** loadRootConfigWithFlags (config.ts), the config module and zod loaded on this first use. */
export async function rootConfigWithFlags(flags: ConfigFlags): Promise<RootConfig> {
  return (await import('./config.ts')).loadRootConfigWithFlags(flags);
}
