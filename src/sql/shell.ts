/** `smartcar sql`: one query, or an interactive shell with history, `\d`, and timing. */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { loadRootConfig, dataPaths, UserError } from '../core/index.ts';
import { openTableStore } from '../table/index.ts';
import type { TableStore } from '../table/index.ts';
import { openCatalog, type Catalog } from './catalog.ts';
import { formatResult } from './format.ts';
import { MARTS } from './lake.ts';

async function open(o: { data?: string; config?: string }): Promise<{ cat: Catalog; table?: TableStore; dataDir: string }> {
  const cfg = loadRootConfig(o.config);
  const dataDir = o.data ?? cfg.dataDir;
  // A typo'd --data would otherwise answer every query with 0 rows.
  if (!fs.existsSync(dataDir)) throw new UserError(`no data directory ${dataDir}: check --data (or run \`smartcar up --data ${dataDir}\` first)`);
  const tablePath = dataPaths(dataDir).table;
  const table = cfg.postgres || fs.existsSync(tablePath)
    ? await openTableStore(cfg.postgres ? { kind: 'postgres', url: cfg.postgres, schema: process.env.SMARTCAR_POSTGRES_SCHEMA } : { kind: 'lmdb', path: tablePath })
    : undefined;
  return { cat: await openCatalog({ dataDir, table }), table, dataDir };
}

export async function runSql(query: string | undefined, o: { data?: string; config?: string; format: string }): Promise<void> {
  if (!['table', 'csv', 'json'].includes(o.format)) throw new UserError(`--format must be table, csv or json, got '${o.format}'`);
  const { cat, table, dataDir } = await open(o);
  try {
    if (query !== undefined) {
      try {
        process.stdout.write(formatResult(await runQuery(cat, query), o.format));
      } catch (err) {
        throw new UserError(`query failed: ${explainQueryError((err as Error).message)}`);
      }
      return;
    }
    await shell(cat, dataDir, o.format);
  } finally {
    await cat.close();
    await table?.close();
  }
}

async function shell(cat: Catalog, dataDir: string, format: string): Promise<void> {
  const historyFile = path.join(dataPaths(dataDir).state, 'sql_history');
  fs.mkdirSync(path.dirname(historyFile), { recursive: true });
  const history = fs.existsSync(historyFile) ? fs.readFileSync(historyFile, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 500) : [];
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, history, historySize: 500, prompt: 'smartcar> ' });
  process.stdout.write(`smartcar SQL over ${path.resolve(dataDir)} — \\d lists tables, \\d NAME describes one, \\q quits; end statements with ;\n`);
  let buf = '';
  rl.prompt();
  for await (const line of rl) {
    const t = line.trim();
    if (!buf && t.startsWith('\\')) {
      const [cmd, arg] = t.split(/\s+/);
      if (cmd === '\\q') break;
      if (cmd === '\\d' && !arg) process.stdout.write((await cat.tables()).join('\n') + '\n');
      else if (cmd === '\\d') {
        try {
          const cols = await cat.describe(arg);
          process.stdout.write(formatResult({ columns: ['column', 'type'], rows: cols.map((c) => [c.column, c.type]) }, 'table'));
        } catch (err) {
          process.stdout.write(`error: ${(err as Error).message}\n`);
        }
      } else process.stdout.write(`unknown command ${cmd} (\\d, \\d NAME, \\q)\n`);
      rl.prompt();
      continue;
    }
    buf += (buf ? '\n' : '') + line;
    if (!t.endsWith(';')) {
      rl.setPrompt(buf ? '      ...> ' : 'smartcar> ');
      rl.prompt();
      continue;
    }
    const sql = buf.replace(/;\s*$/, '');
    buf = '';
    fs.appendFileSync(historyFile, sql.replace(/\n/g, ' ') + '\n');
    const t0 = performance.now();
    try {
      process.stdout.write(formatResult(await runQuery(cat, sql), format));
    } catch (err) {
      process.stdout.write(`error: ${explainQueryError((err as Error).message)}\n`);
    }
    process.stdout.write(`Time: ${((performance.now() - t0) / 1000).toFixed(3)} s\n`);
    rl.setPrompt('smartcar> ');
    rl.prompt();
  }
  rl.close();
}

/** `show tables` lists what `\\d` lists (smartcar_drive_info included, which DuckDB only sees when named). */
async function runQuery(cat: Catalog, sql: string): Promise<Awaited<ReturnType<Catalog['query']>>> {
  if (/^\s*show\s+tables\s*;?\s*$/i.test(sql)) return { columns: ['name'], rows: (await cat.tables()).map((t) => [t]) };
  return cat.query(sql);
}

/** The workflow that builds each mart, for the error of a query on a mart that is not built yet. */
const MART_WORKFLOWS: Record<string, string> = Object.fromEntries(
  Object.entries(MARTS).map(([mart, m]) => [m.table, mart === 'buylist-items' ? 'buylist' : mart]),
);

export function explainQueryError(message: string): string {
  const m = /Table with name (\w+) does not exist/i.exec(message);
  const table = m?.[1].toLowerCase();
  if (table && MART_WORKFLOWS[table]) {
    const wf = MART_WORKFLOWS[table];
    const key = MARTS[wf === 'buylist' ? 'buylist' : (wf as keyof typeof MARTS)].partition === 'biz_month' ? '--day yyyyMM' : '--day yyyyMMdd';
    return `${table} is not built yet: the ${wf} workflow builds it (smartcar workflow run ${wf} ${key}, or wait for the scheduler of smartcar up)`;
  }
  return message;
}
