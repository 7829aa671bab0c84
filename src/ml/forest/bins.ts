/**
 * Histogram bins for integer features. A feature's split candidates are thresholds between
 * consecutive distinct values; a value's bin is the number of thresholds below it, so "bin ≤ b" is
 * exactly "value ≤ threshold[b]" for any value, seen in training or not.
 *
 * With at most `maxBins` distinct values every value gets its own bin (the features here: model,
 * lights, engine, brake, capacity and year). Otherwise bins are cut by frequency, LightGBM's way: a
 * value holding at least 1/maxBins of the rows gets a bin of its own, the rest share the remaining
 * bins in equal-frequency runs. Thresholds sit half-way between the values they separate (as
 * scikit-learn's), counted on the training rows only.
 */

export interface FeatureBins {
  /** Ascending; the bin of v is #{t : t < v}. Length = bins − 1. */
  thresholds: Float64Array;
}

/** Distinct values and their counts over `rows` (all rows when omitted). */
export function valueCounts(col: Int32Array, rows?: Uint32Array): { values: Int32Array; counts: Float64Array } {
  const n = rows ? rows.length : col.length;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = col[rows ? rows[i] : i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (n === 0) return { values: new Int32Array(0), counts: new Float64Array(0) };
  if (hi - lo <= 1 << 20) {
    const dense = new Float64Array(hi - lo + 1);
    for (let i = 0; i < n; i++) dense[col[rows ? rows[i] : i] - lo]++;
    let m = 0;
    for (const c of dense) if (c) m++;
    const values = new Int32Array(m), counts = new Float64Array(m);
    for (let v = 0, j = 0; v < dense.length; v++) if (dense[v]) { values[j] = v + lo; counts[j++] = dense[v]; }
    return { values, counts };
  }
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) { const v = col[rows ? rows[i] : i]; map.set(v, (map.get(v) ?? 0) + 1); }
  const values = Int32Array.from([...map.keys()].sort((a, b) => a - b));
  return { values, counts: Float64Array.from(values, (v) => map.get(v)!) };
}

export function findBins(values: Int32Array, counts: Float64Array, maxBins: number): FeatureBins {
  const m = values.length;
  const mid = (i: number) => (values[i] + values[i + 1]) / 2;
  if (m <= maxBins) return { thresholds: Float64Array.from({ length: Math.max(0, m - 1) }, (_, i) => mid(i)) };
  const total = counts.reduce((s, c) => s + c, 0);
  const big = Array.from(counts, (c) => c >= total / maxBins);
  let restBins = maxBins - big.filter(Boolean).length;
  let restRows = counts.reduce((s, c, i) => s + (big[i] ? 0 : c), 0);
  const cuts: number[] = [];
  let acc = 0;
  for (let i = 0; i < m - 1 && cuts.length < maxBins - 1; i++) {
    acc += counts[i];
    const mean = restBins > 0 ? restRows / restBins : Infinity;
    if (big[i] || big[i + 1] || acc >= mean) {
      cuts.push(mid(i));
      if (!big[i]) {
        restRows -= acc;
        restBins--;
      }
      acc = 0;
    }
  }
  return { thresholds: Float64Array.from(cuts) };
}

/** The bin of every row (Uint8: at most 256 bins). */
export function binColumn(col: Int32Array, bins: FeatureBins): Uint8Array {
  const t = bins.thresholds;
  const out = new Uint8Array(col.length);
  if (col.length === 0) return out;
  let lo = Infinity, hi = -Infinity;
  for (const v of col) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const binOf = (v: number) => {
    let a = 0, b = t.length; // first threshold ≥ v
    while (a < b) { const c = (a + b) >> 1; if (t[c] < v) a = c + 1; else b = c; }
    return a;
  };
  if (hi - lo <= 1 << 20) {
    const lut = new Uint8Array(hi - lo + 1);
    for (let v = lo; v <= hi; v++) lut[v - lo] = binOf(v);
    for (let i = 0; i < col.length; i++) out[i] = lut[col[i] - lo];
  } else {
    for (let i = 0; i < col.length; i++) out[i] = binOf(col[i]);
  }
  return out;
}
