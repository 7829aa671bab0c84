/**
 * The `smartcar` command line. Each role contributes its commands through `register(program)` in
 * its own `src/<role>/cli.ts`. Those files must stay light: heavy modules (DuckDB, LMDB, the
 * broker) are imported inside action handlers, so `smartcar --help` starts fast.
 */
import type { Command } from 'commander';
import { rootCommand } from './root.ts';
import { register as sim } from '../sim/cli.ts';
import { register as broker } from '../broker/cli.ts';
import { register as collect } from '../collect/cli.ts';
import { register as cep } from '../cep/cli.ts';
import { register as stream } from '../stream/cli.ts';
import { register as table } from '../table/cli.ts';
import { register as hot } from '../hot/cli.ts';
import { register as sql } from '../sql/cli.ts';
import { register as flow } from '../flow/cli.ts';
import { register as platform } from '../platform/cli.ts';
import { register as ml } from '../ml/cli.ts';
import { register as pgwire } from '../pgwire/cli.ts';
import { register as exporter } from '../export/cli.ts';
import { register as predict } from '../predict/cli.ts';
import { register as consoleCli } from '../console/cli.ts';

export function buildProgram(): Command {
  const program = rootCommand();
  for (const register of [platform, sim, broker, collect, cep, stream, table, hot, sql, pgwire, flow, exporter, ml, predict, consoleCli]) register(program);
  return program;
}
