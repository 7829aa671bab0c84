/** `smartcar overspeed`: the command of the hot-store role (the overspeed cars of a day). */
import type { Command } from 'commander';
import { UserError, date8 } from '../core/cli.ts';

export function register(program: Command): void {
  program
    .command('overspeed')
    .description('Print the day\'s overspeeding cars from the hot store, as the original Redis client did')
    .requiredOption('--date <yyyyMMdd>', 'the day (the set key)', date8)
    .option('--watch', 'print again every --interval seconds until Ctrl-C')
    .option('--interval <s>', 'seconds between prints with --watch', '10')
    .option('--consume', 'delete the day\'s set after printing (the original demo did)')
    .option('--redis <url>', 'Redis URL (default: the embedded store under the data directory)')
    .option('--data <dir>', 'data directory (default ./smartcar-data)')
    .addHelpText('after', `
Each member is <car number>-<yyyyMMddHHmmss>; the day's set expires one week after its last write.

Examples:
  $ smartcar overspeed --date 20240101
  $ smartcar overspeed --date 20240101 --watch --redis redis://127.0.0.1:6379
  $ redis-cli SMEMBERS 20240101            # what outside applications read`)
    .action(async (o) => {
      const interval = Number(o.interval);
      if (!(interval > 0)) throw new UserError('--interval must be a positive number of seconds');
      const { loadRootConfigWithFlags } = await import('../core/index.ts');
      const { dataPaths } = await import('../core/index.ts');
      const { openHotStore } = await import('./index.ts');
      const cfg = loadRootConfigWithFlags({ data: o.data });
      const url = o.redis ?? cfg.redis;
      const hot = await openHotStore(url ? { kind: 'redis', url } : { kind: 'embedded', path: dataPaths(cfg.dataDir).hot });
      const print = async () => {
        const members = (await hot.smembers(o.date)).sort();
        const ttl = await hot.ttl(o.date);
        process.stdout.write(`${new Date().toISOString()} ${o.date}: ${members.length} overspeeding${ttl > 0 ? ` (expires in ${Math.round(ttl / 3600)} h)` : ''}\n`);
        for (const m of members) process.stdout.write(`  ${m}\n`);
        if (o.consume && members.length) await hot.del(o.date);
      };
      try {
        await print();
        if (o.watch) {
          const { onShutdown } = await import('../core/index.ts');
          await new Promise<void>((resolve) => {
            const t = setInterval(() => void print(), interval * 1000);
            onShutdown(() => { clearInterval(t); resolve(); });
          });
        }
      } finally {
        await hot.close();
      }
    });
}
