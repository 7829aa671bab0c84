/**
 * Core's light face, for the command line: what `src/cli/` and the roles' command registration need —
 * the option parsers, UserError, how a failure is reported, the supervisor watch, the fleet limit, the
 * root config and data paths, the driving table's columns (for the lake's views, which the SQL engine
 * opens without the rest of core). It loads no npm package but zod (which the commands' option schemas load
 * anyway), so `smartcar --help` stays fast; the rest of core (logs, metrics, HTTP, progress bars) is in
 * index.ts, which a command loads inside its action.
 */
export * from './options.ts';
export { UserError } from './errors.ts';
export { reportFailure } from './fail.ts';
export { watchSupervisor } from './parent.ts';
export { MAX_CARS, DRIVER_COLUMNS, DRIVER_FAMILY } from './records.ts';
export { loadRootConfig, loadRootConfigWithFlags } from './config.ts';
export { dataPaths } from './paths.ts';
