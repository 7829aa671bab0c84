/**
 * Column filters for scans: `family:qualifier OP value`, OP one of `= != < <= > >= ~` (`~` is a
 * regular expression). Comparison is numeric when both sides are numbers, else by string.
 */
import { UserError } from '../core/index.ts';
import type { ColumnFilter, Row } from './types.ts';

const FILTER = /^([A-Za-z0-9_]+:[A-Za-z0-9_.-]+)\s*(!=|<=|>=|=|<|>|~)\s*(.*)$/s;

export function parseFilter(text: string): ColumnFilter {
  const m = FILTER.exec(text.trim());
  if (!m) throw new UserError(`bad filter '${text}': expected family:qualifier OP value, OP one of = != < <= > >= ~ (e.g. 'cf1:speed>100')`);
  const [, column, op, value] = m;
  // 'cf1:speed>>120' or 'cf1:speed=>100': a doubled or reversed operator, never a value a cell compares with.
  if (op !== '~' && /^[<>=!~]/.test(value)) {
    throw new UserError(`bad filter '${text}': '${op}' followed by '${value[0]}'; OP is one of = != < <= > >= ~ (e.g. 'cf1:speed>=100')`);
  }
  if (value === '') throw new UserError(`bad filter '${text}': no value after '${op}' (e.g. 'cf1:speed>100')`);
  if (op === '~') {
    try {
      new RegExp(value);
    } catch (err) {
      throw new UserError(`bad regular expression in filter '${text}': ${(err as Error).message}`);
    }
  }
  return { column, op: op as ColumnFilter['op'], value };
}

const isNum = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));

export function matchFilter(cell: string | undefined, f: ColumnFilter, re?: RegExp): boolean {
  if (cell === undefined) return false;
  if (f.op === '~') return (re ?? new RegExp(f.value)).test(cell);
  const numeric = f.numeric ?? (isNum(cell) && isNum(f.value));
  const a: number | string = numeric ? Number(cell) : cell;
  const b: number | string = numeric ? Number(f.value) : f.value;
  switch (f.op) {
    case '=': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    default: return a >= b;
  }
}

const regexCache = new WeakMap<ColumnFilter, RegExp>();

export function matchesFilters(row: Row, filters: ColumnFilter[]): boolean {
  for (const f of filters) {
    let re: RegExp | undefined;
    if (f.op === '~') {
      re = regexCache.get(f);
      if (!re) regexCache.set(f, (re = new RegExp(f.value)));
    }
    if (!matchFilter(row.cells[f.column], f, re)) return false;
  }
  return true;
}
