/** Flags every analysis command shares, and the catalog it reads through (loaded lazily: cli.ts imports this). */
import path from 'node:path';
import { z } from 'zod';
import { rootConfigWithFlags, dataPaths, UserError } from '../core/cli.ts';
import type { Catalog } from '../sql/index.ts';

export const commonSchema = z.object({
  data: z.string().optional().describe('data directory (default ./smartcar-data)'),
  config: z.string().optional().describe('root config file'),
  plots: z.string().optional().describe('write the pictures as SVG files into this directory'),
  json: z.boolean().optional().describe('print machine-readable JSON instead of text'),
});
export type CommonOptions = z.output<typeof commonSchema>;

export async function dataDirOf(o: CommonOptions): Promise<string> {
  return (await rootConfigWithFlags({ data: o.data, config: o.config })).dataDir;
}

export const modelsDir = (dataDir: string) => path.join(dataPaths(dataDir).root, 'models');

export async function withCatalog<T>(dataDir: string, fn: (cat: Catalog) => Promise<T>): Promise<T> {
  const { openCatalog } = await import('../sql/index.ts');
  const cat = await openCatalog({ dataDir });
  try {
    return await fn(cat);
  } finally {
    await cat.close();
  }
}

export const day8 = z.string().regex(/^\d{8}$/, 'must be a yyyyMMdd day');
export const month6 = z.string().regex(/^\d{4}(0[1-9]|1[0-2])$/, 'must be a yyyyMM month');

/** The days of `--day`, or of `--from`..`--to` (inclusive). */
export function daysOf(o: { day?: string; from?: string; to?: string }): string[] {
  if (o.day && (o.from || o.to)) throw new UserError('give --day, or --from and --to, not both');
  if (o.day) return [o.day];
  if (!o.from || !o.to) throw new UserError('which days? give --day yyyyMMdd, or --from yyyyMMdd --to yyyyMMdd');
  const ms = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8));
  const a = ms(o.from), b = ms(o.to);
  if (!(b >= a)) throw new UserError(`--from ${o.from} is after --to ${o.to}`);
  if ((b - a) / 86_400_000 > 366) throw new UserError('at most 367 days at once');
  const out: string[] = [];
  for (let t = a; t <= b; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10).replace(/-/g, ''));
  return out;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
