/** `smartcar table …`: the commands of the table store (list, scan, get, put, delete). */
import type { Command } from 'commander';
import { int } from '../core/cli.ts';

const common = (c: Command) =>
  c.option('--data <dir>', 'data directory (the embedded store is <dir>/table)')
    .option('--postgres <url>', 'the table store in PostgreSQL (postgres://user:pass@host:5432/db) instead of embedded LMDB')
    .option('--config <file>', 'root config file');

export function register(program: Command): void {
  const table = program
    .command('table')
    .description('The table store (HBase role): list, scan with conditions, get, put and delete rows')
    .addHelpText('after', `
Examples:
  $ smartcar table list
  $ smartcar table scan DriverCarInfo --filter 'cf1:speed>100' --filter 'cf1:area_number~^A' --limit 10
  $ smartcar table scan DriverCarInfo --prefix 03510122300202 --format json
  $ smartcar table get DriverCarInfo 03510122300202-A0001
  $ smartcar table put DriverCarInfo 03510122300202-A0001 cf1:speed=120 cf1:area_number=A01
  $ smartcar table delete DriverCarInfo 03510122300202-A0001 cf1:area_number`);

  common(table.command('list').description('Tables with their column families'))
    .addHelpText('after', `
Example:
  $ smartcar table list --data smartcar-data`)
    .action(async (o) => {
    const { withStore } = await import('./run.ts');
    await withStore(o, async (s) => {
      for (const t of await s.listTables()) process.stdout.write(`${t.name}\tfamilies ${t.families.join(',')}\tversions ${t.maxVersions ?? 1}\n`);
    }, { mustExist: true });
  });

  common(table.command('scan').description('Rows in key order, optionally within a range, with column filters (AND)'))
    .argument('<table>')
    .option('--prefix <p>', 'row keys starting with p')
    .option('--start <row>', 'first row (inclusive)')
    .option('--stop <row>', 'last row (exclusive)')
    .option('--filter <f>', "column filter 'family:qualifier OP value', OP = != < <= > >= ~ (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--limit <n>', 'at most n rows (1 or more)', int('--limit', 1, Number.MAX_SAFE_INTEGER))
    .option('--reverse', 'descending key order')
    .option('--format <fmt>', 'table | json (one row per line)', 'table')
    .addHelpText('after', `
Examples:
  $ smartcar table scan DriverCarInfo --filter 'cf1:speed>100' --filter 'cf1:area_number~^A' --limit 10
  $ smartcar table scan DriverCarInfo --prefix 03510122300202 --format json`)
    .action(async (name: string, o) => {
      const { withStore, printRows, checkFilterColumns } = await import('./run.ts');
      const { parseFilter } = await import('./filter.ts');
      const filters = (o.filter as string[]).map(parseFilter);
      await withStore(o, async (s) => {
        await checkFilterColumns(s, name, filters);
        await printRows(s.scan(name, { prefix: o.prefix, start: o.start, stop: o.stop, filters, limit: o.limit, reverse: !!o.reverse }), o.format);
      }, { mustExist: true });
    });

  common(table.command('get').description('One row')).argument('<table>').argument('<row>')
    .option('--format <fmt>', 'table | json', 'table')
    .addHelpText('after', `
Example:
  $ smartcar table get DriverCarInfo 03510122300202-A0001`)
    .action(async (name: string, row: string, o) => {
      const { withStore, printRows } = await import('./run.ts');
      await withStore(o, async (s) => {
        const r = await s.get(name, row);
        if (!r) {
          process.stderr.write(`no row '${row}' in ${name}\n`);
          process.exitCode = 1;
          return;
        }
        await printRows((async function* () { yield r; })(), o.format);
      }, { mustExist: true });
    });

  common(table.command('put').description('Write one or more columns of a row')).argument('<table>').argument('<row>')
    .argument('<cells...>', 'family:qualifier=value …')
    .addHelpText('after', `
Example:
  $ smartcar table put DriverCarInfo 03510122300202-A0001 cf1:speed=120 cf1:area_number=A01`)
    .action(async (name: string, row: string, cells: string[], o) => {
      const { withStore, parseCells } = await import('./run.ts');
      await withStore(o, (s) => s.put(name, row, parseCells(cells)));
    });

  common(table.command('delete').description('Delete a row, or only some of its columns')).argument('<table>').argument('<row>')
    .argument('[columns...]', 'family:qualifier … (default: the whole row)')
    .addHelpText('after', `
Examples:
  $ smartcar table delete DriverCarInfo 03510122300202-A0001 cf1:area_number
  $ smartcar table delete DriverCarInfo 03510122300202-A0001     # the whole row`)
    .action(async (name: string, row: string, columns: string[], o) => {
      const { withStore } = await import('./run.ts');
      await withStore(o, (s) => s.delete(name, row, columns));
    });
}
