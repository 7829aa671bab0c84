/**
 * The `smartcar` command line: the command tree (program.ts), built from each role's `cli.ts`. The
 * entry point is main.ts, which bin/smartcar.js loads and which runs the command on import.
 */
export { buildProgram } from './program.ts';
