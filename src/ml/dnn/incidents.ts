/**
 * The driving-incident training set as numbers: `CarDrivingIncidentInfo.csv`, header
 * `wea,temp,hum,arrCar,timeSlot,acciArea,drvCond,innCond,carSpd,steeAng,acciPos`, ten features in 0–2 and
 * the label acciPos in 0–2. Columns are found by name (any order); a bad value is refused with file:line.
 * Also the seeded 80/20 split and the standard scaler (sklearn's StandardScaler: population σ, σ = 0 → 1).
 */
import fs from 'node:fs';
import { UserError } from '../../core/index.ts';
import { INCIDENT_FEATURES } from '../../sim/index.ts';
import type { Rng } from './network.ts';

export const FEATURES: readonly string[] = INCIDENT_FEATURES;
export const LABEL = 'acciPos';
export const CLASSES = ['0', '1', '2'] as const;

export interface IncidentSet {
  /** rows × 10, row-major, in FEATURES order. */
  x: Float64Array;
  /** The label 0–2 of each row. */
  y: Uint8Array;
  rows: number;
}

export function readIncidents(file: string, opts: { labelled?: boolean } = {}): IncidentSet {
  if (!fs.existsSync(file)) throw new UserError(`${file} does not exist`);
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((s) => s.trim().replace(/^.*\./, ''));
  const idx = FEATURES.map((f) => header.findIndex((h) => h.toLowerCase() === f.toLowerCase()));
  const missing = FEATURES.filter((_, i) => idx[i] < 0);
  if (missing.length) throw new UserError(`${file}:1: the header lacks ${missing.join(', ')} (expected ${[...FEATURES, LABEL].join(',')})`);
  const li = header.findIndex((h) => h.toLowerCase() === LABEL.toLowerCase());
  const labelled = opts.labelled ?? true;
  if (labelled && li < 0) throw new UserError(`${file}:1: no ${LABEL} column: a labelled file is needed`);
  const body = lines.slice(1).filter((l) => l.trim() !== '');
  const x = new Float64Array(body.length * FEATURES.length);
  const y = new Uint8Array(body.length);
  body.forEach((l, r) => {
    const v = l.split(',');
    FEATURES.forEach((f, j) => {
      const n = Number(v[idx[j]]);
      if (v[idx[j]] === undefined || v[idx[j]].trim() === '' || !(n >= 0 && n <= 2)) throw new UserError(`${file}:${r + 2}: ${f} "${v[idx[j]] ?? ''}" is not a number in 0–2`);
      x[r * FEATURES.length + j] = n;
    });
    if (labelled) {
      const c = Number(v[li]);
      if (!(c === 0 || c === 1 || c === 2)) throw new UserError(`${file}:${r + 2}: ${LABEL} "${v[li] ?? ''}" is not 0, 1 or 2`);
      y[r] = c;
    }
  });
  if (body.length === 0) throw new UserError(`${file} has no rows`);
  return { x, y, rows: body.length };
}

/** A seeded permutation: the first ⌈(1 − test)·n⌉ rows train, the rest test. */
export function split(set: IncidentSet, testShare: number, rng: Rng): { train: IncidentSet; test: IncidentSet } {
  const order = permutation(set.rows, rng);
  const nTest = Math.round(set.rows * testShare);
  const nTrain = set.rows - nTest;
  const take = (ids: Uint32Array): IncidentSet => {
    const k = FEATURES.length;
    const x = new Float64Array(ids.length * k);
    const y = new Uint8Array(ids.length);
    ids.forEach((id, r) => {
      x.set(set.x.subarray(id * k, id * k + k), r * k);
      y[r] = set.y[id];
    });
    return { x, y, rows: ids.length };
  };
  return { train: take(order.subarray(0, nTrain)), test: take(order.subarray(nTrain)) };
}

export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface Scaler {
  mean: number[];
  scale: number[];
}

export function fitScaler(x: Float64Array, rows: number, k: number): Scaler {
  const mean = new Array<number>(k).fill(0);
  const m2 = new Array<number>(k).fill(0);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) mean[j] += x[r * k + j];
  for (let j = 0; j < k; j++) mean[j] /= rows;
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < k; j++) {
      const d = x[r * k + j] - mean[j];
      m2[j] += d * d;
    }
  const scale = m2.map((s) => Math.sqrt(s / rows) || 1);
  return { mean, scale };
}

/** (x − mean) / scale, into a new array. */
export function applyScaler(s: Scaler, x: Float64Array, k = s.mean.length): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i % k;
    out[i] = (x[i] - s.mean[j]) / s.scale[j];
  }
  return out;
}

export function oneHot(y: Uint8Array, classes: number): Float64Array {
  const out = new Float64Array(y.length * classes);
  y.forEach((c, i) => (out[i * classes + c] = 1));
  return out;
}
