/** Shared plumbing of the `smartcar table` commands. */
import { loadRootConfigWithFlags } from '../core/config.ts';
import { dataPaths } from '../core/paths.ts';
import { UserError } from '../core/errors.ts';
import { openTableStore } from './index.ts';
import type { Row, TableStore } from './types.ts';

export async function withStore(o: { data?: string; config?: string }, fn: (s: TableStore) => Promise<void>): Promise<void> {
  const cfg = loadRootConfigWithFlags(o);
  const store = await openTableStore(cfg.postgres ? { kind: 'postgres', url: cfg.postgres, schema: process.env.SMARTCAR_POSTGRES_SCHEMA } : { kind: 'lmdb', path: dataPaths(cfg.dataDir).table });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

export function parseCells(cells: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of cells) {
    const eq = c.indexOf('=');
    if (eq < 1 || !c.slice(0, eq).includes(':')) throw new UserError(`bad cell '${c}': expected family:qualifier=value`);
    out[c.slice(0, eq)] = c.slice(eq + 1);
  }
  return out;
}

export async function printRows(rows: AsyncIterable<Row>, format: string): Promise<void> {
  if (format !== 'table' && format !== 'json') throw new UserError(`--format must be table or json, got '${format}'`);
  let n = 0;
  for await (const r of rows) {
    n++;
    if (format === 'json') process.stdout.write(JSON.stringify({ row: r.row, ...r.cells }) + '\n');
    else process.stdout.write(`${r.row}\t${Object.entries(r.cells).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  }
  if (format === 'table') process.stderr.write(`${n} row(s)\n`);
}
