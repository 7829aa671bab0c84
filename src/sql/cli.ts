/** `smartcar sql` and `smartcar load …`: the commands of the SQL role (queries over the lake, reference data loads). */
import type { Command } from 'commander';
import type * as engine from './engine.ts';

/**
 * The SQL engine over a data directory, DuckDB loaded on this first use. Here, on the light face, so
 * a command that needs only the engine (export) loads neither the marts nor the logger and metrics.
 */
export async function openSqlEngine(opts: Parameters<typeof engine.openSqlEngine>[0]): Promise<engine.SqlEngine> {
  return (await import('./engine.ts')).openSqlEngine(opts);
}

export function register(program: Command): void {
  program
    .command('sql')
    .description('SQL over the lake and the marts (DuckDB); without a query, an interactive shell')
    .argument('[query]', 'SQL to run; omit for the shell')
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .option('--config <file>', 'root config file')
    .option('--format <fmt>', 'table | csv | json (one object per line)', 'table')
    .addHelpText('after', `
Tables: smartcar_status_info (partitioned by wrk_date), smartcar_master, smartcar_master_over18,
smartcar_item_buylist, smartcar_master2income, smartcar_driving_incident_info, smartcar_drive_info (the table store), smartcar_drive_info_2 (its daily copy),
and the marts managed_smartcar_{status,drive,symptom,emergency_check,item_buylist,item_list}_info.

Examples:
  $ smartcar sql "select wrk_date, count(*) from SmartCar_Status_Info group by 1 order by 1"
  $ smartcar sql "select * from managed_smartcar_emergency_check_info where biz_date = '20240101'" --format csv
  $ smartcar sql --format json "select car_number, avg(speed::int) avg_speed from smartcar_drive_info_2 group by 1"
  $ smartcar sql        # shell: \\d lists tables, \\d NAME describes one, \\q quits; timing is on`)
    .action(async (query: string | undefined, o) => {
      const { runSql } = await import('./shell.ts');
      await runSql(query, o);
    });

  const load = program.command('load').description('Place reference data in the lake: the car master, purchase lists, the income master, the incident set')
    .addHelpText('after', `
Examples:
  $ smartcar gen master --out /tmp && smartcar load master /tmp/CarMaster.txt
  $ smartcar load buylist /tmp/CarItemBuyList_202003.txt --data smartcar-data`);
  const kinds = {
    master: ['CarMaster.txt (car_number|sex|age|…) → lake/collect/car-master, table smartcar_master', 'CarMaster.txt', ''],
    buylist: ['CarItemBuyList_<yyyyMM>.txt → lake/collect/buy-list, table smartcar_item_buylist', 'CarItemBuyList_202003.txt', ' --month 202003'],
    income: ['CarMaster2Income.txt (carNum|…|income) → lake/collect/master2income, table smartcar_master2income', 'CarMaster2Income.txt', ''],
    incidents: ['CarDrivingIncidentInfo.csv → lake/collect/incidents, table smartcar_driving_incident_info', 'CarDrivingIncidentInfo.csv', ''],
  } as const;
  for (const [kind, [description, example, flags]] of Object.entries(kinds) as [keyof typeof kinds, (typeof kinds)[keyof typeof kinds]][]) {
    load
      .command(kind)
      .description(description)
      .argument('<file>')
      .option('--data <dir>', 'data directory (default ./smartcar-data)')
      .addHelpText('after', `\nExample:\n  $ smartcar gen ${kind}${flags} --out /tmp && smartcar load ${kind} /tmp/${example}`)
      .action(async (file: string, o) => {
        const { loadReference } = await import('./load.ts');
        const { loadRootConfig } = await import('../core/index.ts');
        const cfg = loadRootConfig(undefined);
        const r = loadReference(kind, file, o.data ?? cfg.dataDir);
        process.stderr.write(`loaded ${r.lines} lines into ${r.file}${r.bad ? ` (${r.bad} malformed lines will be skipped by SQL)` : ''}\n`);
      });
  }
}
