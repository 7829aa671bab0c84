/** Shared plumbing of the `smartcar table` commands. */
import fs from 'node:fs';
import { loadRootConfigWithFlags, dataPaths, UserError } from '../core/index.ts';
import { openTableStore } from './index.ts';
import type { ColumnFilter, Row, TableStore } from './types.ts';

/**
 * Opens the configured table store. With `mustExist` (the read commands), an embedded store that is
 * not there is an error, not a new empty store: a typo'd --data says so instead of showing 0 rows.
 */
export async function withStore(o: { data?: string; config?: string; postgres?: string }, fn: (s: TableStore) => Promise<void>, opt: { mustExist?: boolean } = {}): Promise<void> {
  const cfg = loadRootConfigWithFlags(o);
  const p = dataPaths(cfg.dataDir);
  if (!cfg.postgres && opt.mustExist && !fs.existsSync(p.table)) {
    throw new UserError(fs.existsSync(p.root)
      ? `no table store in ${p.root} yet (${p.table} is missing): run \`smartcar up\` or \`smartcar stream --data ${p.root}\` first`
      : `no data directory ${p.root}: check --data (or run \`smartcar up --data ${p.root}\` first)`);
  }
  const store = await openTableStore(cfg.postgres ? { kind: 'postgres', url: cfg.postgres, schema: process.env.SMARTCAR_POSTGRES_SCHEMA } : { kind: 'lmdb', path: p.table });
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

/**
 * A filter on a column no row has matches nothing, silently: refuse it. The family must be one of the
 * table's; the qualifier must appear in the first rows (sampled), when the table has any.
 */
export async function checkFilterColumns(s: TableStore, table: string, filters: ColumnFilter[]): Promise<void> {
  const tables = await s.listTables();
  const desc = tables.find((t) => t.name === table);
  if (!desc) {
    throw new UserError(`no table '${table}' (tables: ${tables.map((t) => t.name).join(', ') || 'none'})` +
      (tables.length ? '' : '; the store is empty: run `smartcar stream` or `smartcar up` first, they create DriverCarInfo and fill it'));
  }
  if (!filters.length) return;
  const seen = new Set<string>();
  let n = 0;
  for await (const r of s.scan(table, { limit: 200 })) {
    n++;
    for (const c of Object.keys(r.cells)) seen.add(c);
  }
  for (const f of filters) {
    const family = f.column.split(':')[0];
    if (!desc.families.includes(family)) throw new UserError(`bad filter column '${f.column}': ${table} has no family '${family}' (families: ${desc.families.join(', ')})`);
    if (n && !seen.has(f.column)) {
      const close = [...seen].filter((c) => c.startsWith(family + ':')).sort((a, b) => distance(a, f.column) - distance(b, f.column));
      throw new UserError(`bad filter column '${f.column}': no row of ${table} has it${close.length ? ` — did you mean '${close[0]}'? (columns: ${close.join(', ')})` : ''}`);
    }
  }
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length];
}
