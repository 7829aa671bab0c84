/** Result printing for `smartcar sql`: an aligned table, CSV, or JSON (one object per line). */
import type { QueryResult } from './catalog.ts';
import { displayWidth, padDisplay, truncateDisplay } from '../core/index.ts';

const text = (v: unknown): string => {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
};

export function formatResult(r: QueryResult, format: string): string {
  if (format === 'json') {
    return r.rows.map((row) => JSON.stringify(Object.fromEntries(r.columns.map((c, i) => [c, typeof row[i] === 'bigint' ? String(row[i]) : row[i]])))).join('\n') + (r.rows.length ? '\n' : '');
  }
  if (format === 'csv') {
    const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [r.columns.map(esc).join(','), ...r.rows.map((row) => row.map((v) => (v === null ? '' : esc(text(v)))).join(','))].join('\n') + '\n';
  }
  const cells = r.rows.map((row) => row.map(text));
  // Columns by display width, as a terminal draws them: 서울 and 회사원 take two columns per character.
  const width = r.columns.map((c, i) => Math.min(60, Math.max(displayWidth(c), ...cells.map((row) => displayWidth(row[i])))));
  const line = (vals: string[]) => vals.map((v, i) => (displayWidth(v) > width[i] ? truncateDisplay(v, width[i]) : padDisplay(v, width[i]))).join(' │ ');
  return [line(r.columns), width.map((w) => '─'.repeat(w)).join('─┼─'), ...cells.map(line)].join('\n') + `\n(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})\n`;
}
