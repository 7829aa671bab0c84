/**
 * The built-in sources; importing this file registers them: spooling directory, TAILDIR and exec.
 */
import './spooldir.ts';
import './taildir.ts';
import './exec.ts';

export { tailTarget } from './exec.ts';
