/**
 * A stored row, shared by every adapter: each column's versions, newest first,
 * `{ "cf1:speed": [[ts, "120"], [ts, "95"]], … }`.
 */
import { UserError } from '../core/index.ts';
import type { TableDescriptor } from './types.ts';

export type StoredRow = Record<string, [number, string][]>;

/** Per descriptor, the column names already found valid (a stream puts the same few names in every row). */
const validColumns = new WeakMap<TableDescriptor, Set<string>>();

export function checkColumns(desc: TableDescriptor, cells: Record<string, string>): void {
  const valid = validOf(desc);
  for (const col in cells) checkColumn(desc, valid, col);
}

/** checkColumns for a list of names (a row's column set, checked once for every row that has it). */
export function checkColumnNames(desc: TableDescriptor, columns: string[]): void {
  const valid = validOf(desc);
  for (const col of columns) checkColumn(desc, valid, col);
}

function validOf(desc: TableDescriptor): Set<string> {
  let valid = validColumns.get(desc);
  if (!valid) validColumns.set(desc, (valid = new Set()));
  return valid;
}

function checkColumn(desc: TableDescriptor, valid: Set<string>, col: string): void {
  if (valid.has(col)) return;
  const fam = col.slice(0, col.indexOf(':'));
  if (col.indexOf(':') < 1 || !desc.families.includes(fam)) {
    throw new UserError(`column '${col}' is not family:qualifier of a family of ${desc.name} (families: ${desc.families.join(', ')})`);
  }
  if (valid.size < 10_000) valid.add(col);
}

/** Adds the cells as new versions (the same value again is not a new version: replays are idempotent). */
export function mergeCells(desc: TableDescriptor, prev: StoredRow | undefined, cells: Record<string, string>, ts: number): StoredRow {
  const keep = desc.maxVersions ?? 1;
  if (!prev && keep >= 1) {
    // A new row (the stream's common case): one version per column, no copies.
    const row: StoredRow = {};
    for (const col in cells) row[col] = [[ts, String(cells[col])]];
    return row;
  }
  const next: StoredRow = { ...prev };
  for (const [col, value] of Object.entries(cells)) {
    const versions = next[col] ?? [];
    if (versions.length && versions[0][1] === value) continue;
    next[col] = [[ts, String(value)] as [number, string], ...versions].slice(0, keep);
  }
  return next;
}

export function withoutColumns(v: StoredRow, columns: string[]): StoredRow | undefined {
  const next = { ...v };
  for (const c of columns) delete next[c];
  return Object.keys(next).length ? next : undefined;
}
