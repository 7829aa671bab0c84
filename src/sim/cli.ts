/** `smartcar gen status | driver | …`: the commands of the fleet simulator (day files, driving log, reference data). */
import { Command, Option } from 'commander';
import { UserError, MAX_CARS, date8, int, month6, rate } from '../core/cli.ts';

const seedOption = () => new Option('--seed <n>', 'same seed → byte-identical output (default: random, printed)').argParser(int('--seed', 0, 2 ** 31 - 1));
const garbageOption = () => new Option('--garbage <rate>', 'inject malformed lines at this rate per record (e.g. 0.01)').argParser(rate);

export function register(program: Command): void {
  const gen = program
    .command('gen')
    .description('Simulate the fleet: status day files, the real-time driving log, and the reference data sets')
    .addHelpText('after', `
Examples:
  $ smartcar gen status --date 20240101 --cars 100 --out smartcar-data/spool/car-batch-log
  $ smartcar gen driver --cars 100 --out smartcar-data/logs/driver-realtime-log/SmartCarDriverInfo.log --speedup 20
  $ smartcar gen driver --cars 100 --date 20240101 --records 86400 --fast --out day.log   # a whole day, for a replay
  $ smartcar gen master --out data/  &&  smartcar gen buylist --month 202003 --out data/`);

  gen
    .command('status')
    .description('One day of car status for the fleet: SmartCarStatusInfo_<date>.txt (21,600 records per car)')
    .requiredOption('--date <yyyyMMdd>', 'the day', date8)
    .option('--cars <n>', 'fleet size', int('--cars', 1, MAX_CARS), 100)
    .option('--out <dir>', 'output directory (the file appears atomically when complete)', '.')
    .addOption(seedOption())
    .addOption(garbageOption())
    .addHelpText('after', '\nExample:\n  $ smartcar gen status --date 20240101 --cars 100 --seed 7 --out /tmp/spool')
    .action(async (o) => {
      const { writeStatusDay } = await import('./status.ts');
      const { progressBar } = await import('../core/index.ts');
      const bar = progressBar(`status ${o.date}`, o.cars * 21_600, 'records');
      const t0 = performance.now();
      const ac = new AbortController();
      const stop = () => { bar.stop(); ac.abort(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const r = await writeStatusDay({ date: o.date, cars: o.cars, outDir: o.out, seed: o.seed, garbage: o.garbage, signal: ac.signal, onProgress: (d) => bar.update(d) });
      bar.stop();
      process.stderr.write(`wrote ${r.file}: ${r.records.toLocaleString('en-US')} records, ${(r.bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t0) / 1000).toFixed(2)} s (seed ${r.seed})\n`);
    });

  gen
    .command('driver')
    .description('Append the driving log in real time (one record per car per simulated second)')
    .option('--cars <n>', 'fleet size', int('--cars', 1, MAX_CARS), 100)
    .option('--out <file>', 'log file to append to', 'smartcar-data/logs/driver-realtime-log/SmartCarDriverInfo.log')
    .option('--speedup <x>', 'simulated seconds per wall second (the original ran at 20)', Number, 1)
    .option('--date <yyyyMMdd>', 'simulated start day (default: now)', date8)
    .option('--records <n>', 'stop after n records per car', int('--records', 1, 1e9))
    .option('--duration <s>', 'stop after s wall seconds', Number)
    .option('--fast', 'write as fast as possible, ignoring the clock')
    .addOption(seedOption())
    .addOption(garbageOption())
    .addHelpText('after', `
Stops cleanly on Ctrl-C / SIGTERM; every write holds whole lines, so the log never ends mid-line.
The original simulator wrote one record per car every 100 ms with timestamps 2 s apart: --speedup 20.

Examples:
  $ smartcar gen driver --cars 100                         # live, from now
  $ smartcar gen driver --cars 100 --speedup 20 --duration 60
  $ smartcar gen driver --cars 100 --date 20240101 --records 86400 --fast --seed 1 --out day.log`)
    .action(async (o) => {
      if (!(o.speedup > 0)) throw new UserError('--speedup must be a positive number');
      const { runDriverLog } = await import('./driver.ts');
      const { parseDate8 } = await import('../core/index.ts');
      const { onShutdown } = await import('../core/index.ts');
      const ac = new AbortController();
      const done = new Promise<void>((resolve) => onShutdown(async () => { ac.abort(); await finished; resolve(); }));
      const finished = runDriverLog({
        cars: o.cars, out: o.out, speedup: o.speedup, startMs: o.date ? parseDate8(o.date) : undefined,
        records: o.records, durationSec: o.duration, fast: !!o.fast, seed: o.seed, garbage: o.garbage, signal: ac.signal,
      });
      const r = await Promise.race([finished, done.then(() => finished)]);
      process.stderr.write(`appended ${r.records.toLocaleString('en-US')} records (${r.lines.toLocaleString('en-US')} lines) to ${o.out} (seed ${r.seed})\n`);
    });

  const reference = (name: string, description: string, file: string, run: (o: Record<string, unknown>) => Promise<string>, extra?: (c: Command) => Command) => {
    let c = gen.command(name).description(description).option('--out <dir>', 'output directory', '.').addOption(seedOption());
    if (extra) c = extra(c);
    c.addHelpText('after', `\nExample:\n  $ smartcar gen ${name}${name === 'buylist' ? ' --month 202003' : ''} --seed 1 --out data/     # → data/${file}`);
    c.action(async (o) => {
      // The seed is chosen here when none is given, so it can be printed (and the output made again).
      o.seed ??= (await import('./random.ts')).randomSeed();
      process.stderr.write(`wrote ${await run(o)} (seed ${o.seed as number})\n`);
    });
  };
  reference('master', 'The car master (2,600 cars): CarMaster.txt', 'CarMaster.txt', async (o) =>
    (await import('./reference.ts')).writeMaster({ outDir: o.out as string, seed: o.seed as number | undefined }));
  reference('buylist', 'Item purchases of a month: CarItemBuyList_<yyyyMM>.txt', 'CarItemBuyList_202003.txt', async (o) =>
    (await import('./reference.ts')).writeBuyList({ outDir: o.out as string, month: o.month as string, seed: o.seed as number | undefined, rows: o.rows as number | undefined }),
    (c) => c.requiredOption('--month <yyyyMM>', 'the month', month6('--month')).option('--rows <n>', 'rows', int('--rows', 1, 1e8), 100_000));
  reference('income', 'The master with income, for regression: CarMaster2Income.txt', 'CarMaster2Income.txt', async (o) =>
    (await import('./reference.ts')).writeIncome({ outDir: o.out as string, seed: o.seed as number | undefined, rows: o.rows as number | undefined }),
    (c) => c.option('--rows <n>', 'rows', int('--rows', 1, 1e8)));
  reference('incidents', 'The driving-incident training set: CarDrivingIncidentInfo.csv', 'CarDrivingIncidentInfo.csv', async (o) =>
    (await import('./reference.ts')).writeIncidents({ outDir: o.out as string, seed: o.seed as number | undefined, rows: o.rows as number | undefined }),
    (c) => c.option('--rows <n>', 'rows', int('--rows', 1, 1e8), 200_000));
}
