/**
 * Read-only SQL from outside, checked before it runs; the engine checks again, whatever gets past this
 * (the instance is confined and locked: sandbox.ts).
 * - The console's notebooks (`checkReadOnly`): exactly one statement, a SELECT (DuckDB's own parser,
 *   `json_serialize_sql`, serialises SELECT statements only), whose table functions are all on an
 *   allow-list — no `read_csv`, `read_parquet`, `read_text`, `glob` … (the catalog's views read the lake).
 * - The SQL endpoint's sessions (`readOnlyKind`): a prepared statement runs only when DuckDB types it
 *   a SELECT or an EXPLAIN — no COPY, ATTACH, CREATE, INSERT, SET.
 */
import type { Catalog } from './catalog.ts';
import type { StatementKind } from './engine.ts';

/** Whether a prepared statement of this kind may run in a read-only session. */
export const readOnlyKind = (kind: StatementKind): boolean => kind === 'select' || kind === 'explain';

const ALLOWED_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

export class ReadOnlyViolation extends Error {}

function walk(node: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) for (const n of node) walk(n, visit);
  else if (node && typeof node === 'object') {
    visit(node as Record<string, unknown>);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

export async function checkReadOnly(cat: Catalog, sql: string): Promise<void> {
  const r = await cat.query(`SELECT json_serialize_sql('${sql.replace(/'/g, "''")}')`);
  const tree = JSON.parse(String(r.rows[0][0])) as { error: boolean; error_message?: string; error_type?: string; statements?: unknown[] };
  if (tree.error) {
    if (/only select/i.test(tree.error_message ?? '')) throw new ReadOnlyViolation('refused: console SQL is read-only — one SELECT (or WITH … SELECT) query; no COPY, ATTACH, INSTALL, SET, CREATE, INSERT …');
    // A syntax error: let the engine report it with its position.
    return;
  }
  if ((tree.statements?.length ?? 0) !== 1) throw new ReadOnlyViolation(`refused: one statement at a time (got ${tree.statements?.length ?? 0})`);
  const refused: string[] = [];
  walk(tree.statements, (o) => {
    if (o.type === 'TABLE_FUNCTION') {
      const name = String((o.function as { function_name?: string } | undefined)?.function_name ?? '').toLowerCase();
      if (!ALLOWED_TABLE_FUNCTIONS.has(name)) refused.push(name);
    }
  });
  if (refused.length) throw new ReadOnlyViolation(`refused: table function ${[...new Set(refused)].join(', ')} reads files or the system; console SQL reads the catalog's tables and views only`);
}
