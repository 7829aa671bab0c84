/**
 * k-means over dense points (row-major Float64Array, n × d), with multiplicities: identical points
 * are given once with a weight, which changes nothing in the result and makes the fleet's ~2,600
 * cars (a few hundred distinct feature vectors) cheap.
 *
 * - Seeding: greedy k-means++ (scikit-learn's): each next centre is the best, by the resulting
 *   inertia, of 2 + ⌊ln k⌋ candidates drawn with probability ∝ weight × D².
 * - Lloyd iterations until no assignment changes or no centre moves more than `tol` (squared), at
 *   most `maxIter`. A centre left without points moves to the point farthest from its centre.
 * - `restarts` runs from different seedings; the lowest inertia (Σ weight × squared distance) wins.
 * - Ties between equally near centres go to the lower index, so identical points share a cluster.
 *
 * The silhouette is scikit-learn's: Euclidean distances; s(i) = (b − a) / max(a, b) with a the mean
 * distance to the other points of i's cluster and b the lowest mean distance to another cluster's
 * points; 0 for a point alone in its cluster; the mean over all points (with their multiplicities).
 */
import { rng, type Rng } from '../random.ts';
import type { KMeansConfig } from './schema.ts';

export interface Points {
  n: number;
  d: number;
  x: Float64Array;
  /** Multiplicity of each point (default 1). */
  w?: Float64Array;
}

export interface KMeansResult {
  k: number;
  centers: Float64Array;
  assign: Int32Array;
  inertia: number;
  iterations: number;
}

const sqdist = (a: Float64Array, i: number, b: Float64Array, j: number, d: number) => {
  let s = 0;
  for (let t = 0; t < d; t++) { const z = a[i * d + t] - b[j * d + t]; s += z * z; }
  return s;
};

/** Identical rows merged: the distinct points with weights, and each input row's distinct index. */
export function dedupe(x: Float64Array, n: number, d: number): { points: Points; index: Int32Array } {
  const map = new Map<string, number>();
  const index = new Int32Array(n);
  const rows: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = Array.from(x.subarray(i * d, i * d + d)).join(',');
    let j = map.get(key);
    if (j === undefined) { map.set(key, (j = rows.length)); rows.push(i); w.push(0); }
    w[j]++;
    index[i] = j;
  }
  const u = new Float64Array(rows.length * d);
  rows.forEach((r, j) => u.set(x.subarray(r * d, r * d + d), j * d));
  return { points: { n: rows.length, d, x: u, w: Float64Array.from(w) }, index };
}

function seedPlusPlus(p: Points, k: number, r: Rng): Float64Array {
  const { n, d, x } = p;
  const w = p.w ?? new Float64Array(n).fill(1);
  const centers = new Float64Array(k * d);
  const totalW = w.reduce((s, v) => s + v, 0);
  const pick = (weights: Float64Array, sum: number) => {
    let u = r() * sum;
    for (let i = 0; i < n; i++) { u -= weights[i]; if (u < 0) return i; }
    for (let i = n - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return 0;
  };
  const first = pick(w, totalW);
  centers.set(x.subarray(first * d, first * d + d), 0);
  const closest = new Float64Array(n);
  for (let i = 0; i < n; i++) closest[i] = sqdist(x, i, centers, 0, d);
  const trials = 2 + Math.floor(Math.log(k));
  const pot = new Float64Array(n);
  const cand = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (pot[i] = w[i] * closest[i]);
    if (sum <= 0) {
      // Fewer distinct points than centres: the rest sit on points already taken.
      centers.set(x.subarray(0, d), c * d);
      continue;
    }
    let best = -1, bestPot = Infinity;
    let bestClosest: Float64Array | undefined;
    for (let t = 0; t < trials; t++) {
      const j = pick(pot, sum);
      let s = 0;
      for (let i = 0; i < n; i++) { const v = Math.min(closest[i], sqdist(x, i, x, j, d)); cand[i] = v; s += w[i] * v; }
      if (s < bestPot) { bestPot = s; best = j; bestClosest = Float64Array.from(cand); }
    }
    centers.set(x.subarray(best * d, best * d + d), c * d);
    closest.set(bestClosest!);
  }
  return centers;
}

function lloyd(p: Points, k: number, centers: Float64Array, cfg: Pick<KMeansConfig, 'maxIter' | 'tol'>): KMeansResult {
  const { n, d, x } = p;
  const w = p.w ?? new Float64Array(n).fill(1);
  const assign = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const sums = new Float64Array(k * d), mass = new Float64Array(k);
  let iterations = 0;
  for (; iterations < cfg.maxIter; iterations++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0, bd = Infinity;
      for (let c = 0; c < k; c++) { const s = sqdist(x, i, centers, c, d); if (s < bd) { bd = s; best = c; } }
      if (assign[i] !== best) { assign[i] = best; changed++; }
      dist[i] = bd;
    }
    if (changed === 0 && iterations > 0) break;
    sums.fill(0); mass.fill(0);
    for (let i = 0; i < n; i++) {
      const c = assign[i];
      mass[c] += w[i];
      for (let t = 0; t < d; t++) sums[c * d + t] += w[i] * x[i * d + t];
    }
    let moved = 0;
    const taken = new Uint8Array(n);
    for (let c = 0; c < k; c++) {
      if (mass[c] === 0) {
        // An empty cluster takes the point farthest from its own centre (not one already taken).
        let far = -1;
        for (let i = 0; i < n; i++) if (!taken[i] && dist[i] > 0 && (far < 0 || dist[i] > dist[far])) far = i;
        if (far < 0) continue;
        taken[far] = 1;
        dist[far] = 0;
        for (let t = 0; t < d; t++) { const v = x[far * d + t]; moved = Math.max(moved, (centers[c * d + t] - v) ** 2); centers[c * d + t] = v; }
        continue;
      }
      let m = 0;
      for (let t = 0; t < d; t++) { const v = sums[c * d + t] / mass[c]; m += (centers[c * d + t] - v) ** 2; centers[c * d + t] = v; }
      moved = Math.max(moved, m);
    }
    if (moved <= cfg.tol) { iterations++; break; }
  }
  // Final assignment against the final centres.
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let best = 0, bd = Infinity;
    for (let c = 0; c < k; c++) { const s = sqdist(x, i, centers, c, d); if (s < bd) { bd = s; best = c; } }
    assign[i] = best;
    inertia += w[i] * bd;
  }
  return { k, centers, assign, inertia, iterations };
}

export function kmeans(p: Points, cfg: KMeansConfig): KMeansResult {
  let best: KMeansResult | undefined;
  for (let r = 0; r < cfg.restarts; r++) {
    const res = lloyd(p, cfg.k, seedPlusPlus(p, cfg.k, rng(cfg.seed * 1000 + r)), cfg);
    if (!best || res.inertia < best.inertia - 1e-12) best = res;
  }
  return best!;
}

export function silhouette(p: Points, assign: Int32Array, k: number): number {
  const { n, d, x } = p;
  const w = p.w ?? new Float64Array(n).fill(1);
  const size = new Float64Array(k);
  for (let i = 0; i < n; i++) size[assign[i]] += w[i];
  const toCluster = new Float64Array(k);
  let total = 0, count = 0;
  for (let i = 0; i < n; i++) {
    toCluster.fill(0);
    for (let j = 0; j < n; j++) toCluster[assign[j]] += w[j] * Math.sqrt(sqdist(x, i, x, j, d));
    const own = assign[i];
    count += w[i];
    if (size[own] <= 1) continue; // s = 0
    const a = toCluster[own] / (size[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && size[c] > 0) b = Math.min(b, toCluster[c] / size[c]);
    if (!Number.isFinite(b)) continue;
    const m = Math.max(a, b);
    total += w[i] * (m > 0 ? (b - a) / m : 0);
  }
  return count ? total / count : 0;
}

/** The data projected on its first two principal components (power iteration on the covariance). */
export function principalComponents(x: Float64Array, n: number, d: number): [number, number][] {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += x[i * d + t] / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]) / n;
  const comps: Float64Array[] = [];
  for (let c = 0; c < Math.min(2, d); c++) {
    let v = Float64Array.from({ length: d }, (_, t) => 1 + t * 0.1);
    for (let it = 0; it < 200; it++) {
      const nv = new Float64Array(d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) nv[a] += cov[a * d + b] * v[b];
      for (const u of comps) { const dot = nv.reduce((s, z, t) => s + z * u[t], 0); for (let t = 0; t < d; t++) nv[t] -= dot * u[t]; }
      const norm = Math.hypot(...nv);
      if (norm === 0) break;
      v = nv.map((z) => z / norm);
    }
    comps.push(v);
  }
  return Array.from({ length: n }, (_, i) => {
    const proj = comps.map((u) => u.reduce((s, z, t) => s + z * (x[i * d + t] - mean[t]), 0));
    return [proj[0] ?? 0, proj[1] ?? 0];
  });
}
