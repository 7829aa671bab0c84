/**
 * Column filters (filter.ts) pushed into PostgreSQL's WHERE clause. A cell is
 * `cells ->> 'family:qualifier'` (the newest value; NULL when the row lacks the column).
 *
 * The SQL condition never rejects a row the JavaScript filter would keep; where the two languages
 * could differ it keeps the row, and the scan applies `matchesFilters` to what comes back:
 * - a string comparison is pushed exactly for `=`/`!=`, and for `< <= > >=` when the value is ASCII
 *   (then PostgreSQL's "C" byte order and JavaScript's UTF-16 order agree);
 * - a numeric comparison is pushed for cells that are plain decimals (`-?d{1,15}(.d{1,15})?`, parsed to
 *   the same double by both); any other cell is left to JavaScript (exponents, hex, huge numbers);
 * - a regular expression `^literal` becomes `starts_with`; other regular expressions (JavaScript and
 *   POSIX dialects differ) only require the cell to exist.
 */
import type { ColumnFilter } from './types.ts';

const isNum = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));
const isAscii = (s: string) => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};
const PLAIN_DECIMAL = '^-?[0-9]{1,15}([.][0-9]{1,15})?$';
const LITERAL_PREFIX = /^\^[A-Za-z0-9 _:,/-]*$/;

/** SQL for one filter; `arg(v)` adds a parameter and returns its placeholder. */
export function filterSql(f: ColumnFilter, arg: (v: unknown) => string): string {
  const cell = `(cells ->> ${arg(f.column)})`;
  const exists = `${cell} IS NOT NULL`;
  if (f.op === '~') {
    if (LITERAL_PREFIX.test(f.value)) return `starts_with(${cell}, ${arg(f.value.slice(1))})`;
    return exists;
  }
  const sqlOp = f.op === '!=' ? '<>' : f.op;
  const valueNumeric = isNum(f.value);
  if (f.numeric === true || (f.numeric === undefined && valueNumeric)) {
    if (!valueNumeric) return exists; // NaN on one side: JavaScript decides (only != can match)
    return `(CASE WHEN ${cell} ~ '${PLAIN_DECIMAL}' THEN ${cell}::float8 ${sqlOp} ${arg(Number(f.value))}::float8 ELSE ${exists} END)`;
  }
  if (f.op === '=' || f.op === '!=' || isAscii(f.value)) return `${cell} COLLATE "C" ${sqlOp} ${arg(f.value)}`;
  return exists;
}
