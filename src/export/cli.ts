/** `smartcar export` and `export symptom`: the commands of the export role (catalog tables and marts into PostgreSQL). */
import type { Command } from 'commander';

/** Runs an export with Ctrl-C as its abort signal and, on a terminal, a running row count (counted only then). */
async function withProgress<T>(what: string, fn: (onRows: ((n: number) => void) | undefined, signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let last = 0;
  const tty = process.stderr.isTTY;
  const onRows = (n: number) => {
    const now = Date.now();
    if (now - last > 500) {
      last = now;
      process.stderr.write(`\r${what}: ${n.toLocaleString('en')} rows`);
    }
  };
  try {
    return await fn(tty ? onRows : undefined, ac.signal);
  } finally {
    if (tty && last) process.stderr.write('\n');
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** --data, or the configured data directory (the config module, and zod with it, loaded only then). */
async function dataDirOf(data: string | undefined): Promise<string> {
  return data ?? (await (await import('../core/cli.ts')).rootConfig()).dataDir;
}

export function register(program: Command): void {
  const exp = program
    .command('export')
    .description('Copy a catalog table or mart into PostgreSQL with COPY, in one transaction (the Sqoop role)')
    .option('--table <name>', 'catalog table to export (see smartcar sql "\\d")')
    .option('--where <sql>', 'filter on the source, DuckDB SQL')
    .option('--to <url>', 'postgres://user:password@host:port/database (default $SMARTCAR_EXPORT_URL)')
    .option('--target <name>', 'target [schema.]table; created when missing')
    .option('--mode <mode>', 'replace-partition | append | upsert', 'replace-partition')
    .option('--key <cols>', 'partition column(s) for replace-partition, key column(s) for upsert, comma-separated')
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .addHelpText('after', `
replace-partition deletes the target's rows whose --key values the export carries, then copies, in
one transaction: re-running leaves the same table, and a failure half-way keeps the old rows.

Examples:
  $ smartcar export symptom --day 20240105 --to postgres://postgres@127.0.0.1:5432/test
  $ smartcar export --table managed_smartcar_emergency_check_info --where "biz_date = '20240105'" \\
      --to postgres://postgres@127.0.0.1/test --target emergency_check --key biz_date
  $ smartcar export --table smartcar_master --to postgres://postgres@127.0.0.1/test --target car_master \\
      --mode upsert --key car_number`)
    .action(async (o) => {
      const { UserError } = await import('../core/cli.ts');
      if (!o.table) throw new UserError('give --table NAME (or use: smartcar export symptom --day yyyyMMdd)');
      if (!o.target) throw new UserError('give --target [schema.]table');
      if (!['replace-partition', 'append', 'upsert'].includes(o.mode)) throw new UserError(`--mode must be replace-partition, append or upsert, got '${o.mode}'`);
      const { exportTable, exportUrl } = await import('./index.ts');
      const to = o.to ?? exportUrl();
      if (!to) throw new UserError('give --to postgres://… (or set SMARTCAR_EXPORT_URL)');
      const r = await withProgress(`export ${o.table}`, async (onRows, signal) =>
        exportTable({ dataDir: await dataDirOf(o.data), table: o.table, where: o.where, to, target: o.target, mode: o.mode, key: o.key?.split(',').map((k: string) => k.trim()).filter(Boolean), onRows, signal }));
      process.stderr.write(`exported ${r.rows} rows into ${r.target}${r.created ? ' (created)' : ''}${r.deleted ? `, replacing ${r.deleted}` : ''} in ${(r.ms / 1000).toFixed(2)} s\n`);
    });

  exp
    .command('symptom')
    .description("The day's symptom mart into smartcar_symptom_info (the seed's DDL: 8 varchar columns), replacing that day")
    .requiredOption('--day <yyyyMMdd>', 'business day (biz_date)')
    .option('--to <url>', 'postgres://user:password@host:port/database (default $SMARTCAR_EXPORT_URL)')
    .option('--target <name>', 'target table', 'smartcar_symptom_info')
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .addHelpText('after', `
Example:
  $ smartcar export symptom --day 20240105 --to postgres://postgres@127.0.0.1:5432/test
  $ psql -h 127.0.0.1 -U postgres test -c "select count(*) from smartcar_symptom_info where biz_date = '20240105'"`)
    .action(async (sub) => {
      // --to, --data and --target are the parent's options too; commander hands them to it.
      const o = { ...sub, ...Object.fromEntries(Object.entries(exp.opts()).filter(([k, v]) => v !== undefined && k !== 'mode')) };
      const { UserError } = await import('../core/cli.ts');
      const { exportSymptomDay, exportUrl } = await import('./index.ts');
      const to = o.to ?? exportUrl();
      if (!to) throw new UserError('give --to postgres://… (or set SMARTCAR_EXPORT_URL)');
      const r = await withProgress('export symptom', async (onRows, signal) => exportSymptomDay({ dataDir: await dataDirOf(o.data), day: o.day, to, target: o.target, onRows, signal }));
      process.stderr.write(`exported ${r.rows} rows of ${o.day} into ${r.target}${r.created ? ' (created)' : ''}${r.deleted ? `, replacing ${r.deleted}` : ''} in ${(r.ms / 1000).toFixed(2)} s\n`);
      if (r.rows === 0) process.stderr.write(`note: the symptom mart has no rows for ${o.day} (build it: smartcar workflow run symptom --day ${o.day})\n`);
    });
}
