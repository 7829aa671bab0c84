/**
 * The columns a regression reads, from a delimited file or a catalog table.
 *
 * File: `|`- or `,`-delimited (whichever the header line holds), a header naming the columns. Names are
 * taken as the catalog spells them: a `smartcar_master2income.` prefix (the seed's test file) is dropped,
 * and the raw file's short names map to the table's:
 *   carNum → car_number, capacity → car_capacity, year → car_year, type → car_model
 * so `income ~ car_capacity` reads the raw file, the table and the test file alike.
 *
 * Formula: `response ~ term [+ term …]`, each a numeric column.
 */
import fs from 'node:fs';
import { UserError } from '../../core/index.ts';

export const ALIASES: Record<string, string> = { carnum: 'car_number', capacity: 'car_capacity', year: 'car_year', type: 'car_model' };

export function columnName(raw: string): string {
  const n = raw.trim().toLowerCase().replace(/^.*\./, '');
  return ALIASES[n] ?? n;
}

export interface Formula {
  response: string;
  predictors: string[];
}

export function parseFormula(text: string): Formula {
  const m = /^\s*([A-Za-z_][\w.]*)\s*~\s*(.+)$/.exec(text);
  if (!m) throw new UserError(`--formula "${text}": expected "response ~ predictor [+ predictor …]", e.g. "income ~ car_capacity"`);
  const predictors = m[2].split('+').map((s) => s.trim());
  for (const p of predictors) if (!/^[A-Za-z_][\w.]*$/.test(p)) throw new UserError(`--formula "${text}": "${p}" is not a column name (only + of numeric columns is supported)`);
  if (new Set(predictors).size !== predictors.length) throw new UserError(`--formula "${text}": a predictor appears twice`);
  if (predictors.includes(m[1])) throw new UserError(`--formula "${text}": the response cannot also be a predictor`);
  return { response: columnName(m[1]), predictors: predictors.map(columnName) };
}

/** Raw string columns by (catalog) name. */
export interface Frame {
  source: string;
  names: string[];
  rows: string[][];
}

export function readDelimited(file: string): Frame {
  if (!fs.existsSync(file)) throw new UserError(`${file} does not exist`);
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new UserError(`${file} is empty: expected a header line naming the columns`);
  const sep = lines[0].includes('|') ? '|' : ',';
  const names = lines[0].split(sep).map(columnName);
  const rows = lines.slice(1).map((l) => l.split(sep));
  rows.forEach((r, i) => {
    if (r.length !== names.length) throw new UserError(`${file}:${i + 2}: ${r.length} fields, the header has ${names.length}`);
  });
  return { source: file, names, rows };
}

/** Numeric columns out of a frame, each value checked (file:line on the first bad one). */
export function numericColumns(frame: Frame, wanted: string[]): Float64Array[] {
  return wanted.map((name) => {
    const j = frame.names.indexOf(name);
    if (j < 0) throw new UserError(`${frame.source}: no column "${name}" (columns: ${frame.names.join(', ')})`);
    const out = new Float64Array(frame.rows.length);
    frame.rows.forEach((r, i) => {
      const s = r[j].trim();
      const v = s === '' ? NaN : Number(s);
      if (!Number.isFinite(v)) throw new UserError(`${frame.source}:${i + 2}: ${name} "${r[j]}" is not a number`);
      out[i] = v;
    });
    return out;
  });
}
