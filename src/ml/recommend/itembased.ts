/**
 * Item-based collaborative filtering with the semantics of Mahout's `recommenditembased`
 * (org.apache.mahout.cf.taste.hadoop.item.RecommenderJob):
 *
 * 1. A car's preference for an item is one value: the highest score among its purchases of it.
 * 2. Item–item similarity over the cars (only pairs bought together by some car have one; an item is
 *    not similar to itself), from n_i = cars with i, c_ij = cars with both, U = cars:
 *      cooccurrence   c_ij
 *      jaccard        c_ij / (n_i + n_j − c_ij)                          (Tanimoto)
 *      loglikelihood  1 − 1 / (1 + LLR(c_ij, n_i − c_ij, n_j − c_ij, U − n_i − n_j + c_ij))
 *      cosine         Σ r_ui r_uj / (‖r_i‖ ‖r_j‖)                         (preference values)
 *    Each item keeps its `maxSimilaritiesPerItem` most similar items (ties by item).
 * 3. A car's prediction uses its `maxPrefsPerUser` highest preferences (every preference tied with
 *    the last one kept, as Mahout's UserVectorSplitterMapper). For an item i the car did not buy:
 *      score(i) = Σ_j s_ji · r_uj / Σ_j |s_ji|   over those preferences j with a similarity s_ji,
 *    and only when there are at least two such j (Mahout: "preference estimations must be based on
 *    at least 2 data points") — so a car with a single purchase gets no recommendation.
 * 4. The top k by score; ties go to the smaller item name (Mahout leaves them to hash order).
 *    Items the car bought are never recommended (Mahout misses those cut by maxPrefsPerUser).
 */
import type { ItemBasedConfig, Similarity } from './schema.ts';

export interface Prefs {
  users: string[];
  items: string[];
  /** CSR by user: items of user u are item[start[u]..start[u+1]), ascending. */
  start: Int32Array;
  item: Int32Array;
  value: Float64Array;
}

export interface Recommendation { item: number; score: number }

/** Builds the preference matrix from (car, item, score) rows; duplicates keep the highest score. */
export function buildPrefs(rows: { user: string; item: string; score: number }[]): Prefs {
  const users = [...new Set(rows.map((r) => r.user))].sort();
  const items = [...new Set(rows.map((r) => r.item))].sort();
  const ui = new Map(users.map((u, i) => [u, i])), ii = new Map(items.map((x, i) => [x, i]));
  const best = new Map<number, number>();
  const I = items.length;
  for (const r of rows) {
    const key = ui.get(r.user)! * I + ii.get(r.item)!;
    const v = best.get(key);
    if (v === undefined || r.score > v) best.set(key, r.score);
  }
  const keys = [...best.keys()].sort((a, b) => a - b);
  const start = new Int32Array(users.length + 1), item = new Int32Array(keys.length), value = new Float64Array(keys.length);
  keys.forEach((k, n) => {
    start[Math.floor(k / I) + 1]++;
    item[n] = k % I;
    value[n] = best.get(k)!;
  });
  for (let u = 0; u < users.length; u++) start[u + 1] += start[u];
  return { users, items, start, item, value };
}

function xlogx(x: number): number {
  return x === 0 ? 0 : x * Math.log(x);
}

/** Mahout's LogLikelihood.logLikelihoodRatio (unnormalised entropies). */
export function logLikelihoodRatio(k11: number, k12: number, k21: number, k22: number): number {
  const entropy = (...xs: number[]) => xlogx(xs.reduce((s, x) => s + x, 0)) - xs.reduce((s, x) => s + xlogx(x), 0);
  const row = entropy(k11 + k12, k21 + k22), col = entropy(k11 + k21, k12 + k22), mat = entropy(k11, k12, k21, k22);
  if (row + col < mat) return 0; // round-off
  return 2 * (row + col - mat);
}

/** Dense item × item similarities; NaN where there is none (never bought together, or i = j). */
export function itemSimilarities(p: Prefs, similarity: Similarity, maxPerItem: number): Float64Array {
  const I = p.items.length, U = p.users.length;
  const co = new Float64Array(I * I), dot = new Float64Array(I * I), n = new Float64Array(I), sq = new Float64Array(I);
  for (let u = 0; u < U; u++) {
    for (let a = p.start[u]; a < p.start[u + 1]; a++) {
      const i = p.item[a], ri = p.value[a];
      n[i]++;
      sq[i] += ri * ri;
      for (let b = p.start[u]; b < p.start[u + 1]; b++) {
        if (a === b) continue;
        co[i * I + p.item[b]]++;
        dot[i * I + p.item[b]] += ri * p.value[b];
      }
    }
  }
  const s = new Float64Array(I * I).fill(NaN);
  for (let i = 0; i < I; i++) {
    for (let j = 0; j < I; j++) {
      const c = co[i * I + j];
      if (i === j || c === 0) continue;
      let v: number;
      if (similarity === 'cooccurrence') v = c;
      else if (similarity === 'jaccard') v = c / (n[i] + n[j] - c);
      else if (similarity === 'cosine') v = dot[i * I + j] / Math.sqrt(sq[i] * sq[j]);
      else v = 1 - 1 / (1 + logLikelihoodRatio(c, n[i] - c, n[j] - c, U - n[i] - n[j] + c));
      s[i * I + j] = v;
    }
    if (I - 1 > maxPerItem) {
      const row = Array.from({ length: I }, (_, j) => j).filter((j) => !Number.isNaN(s[i * I + j]))
        .sort((a, b) => s[i * I + b] - s[i * I + a] || a - b);
      for (const j of row.slice(maxPerItem)) s[i * I + j] = NaN;
    }
  }
  return s;
}

/** Top-k recommendations of every user (index = user). */
export function recommendAll(p: Prefs, sim: Float64Array, cfg: Pick<ItemBasedConfig, 'top' | 'maxPrefsPerUser'>): Recommendation[][] {
  const I = p.items.length;
  const num = new Float64Array(I), den = new Float64Array(I), cnt = new Int32Array(I), bought = new Uint8Array(I);
  const out: Recommendation[][] = [];
  for (let u = 0; u < p.users.length; u++) {
    const a = p.start[u], b = p.start[u + 1];
    num.fill(0); den.fill(0); cnt.fill(0); bought.fill(0);
    for (let x = a; x < b; x++) bought[p.item[x]] = 1;
    let cut = -Infinity;
    if (b - a > cfg.maxPrefsPerUser) cut = Array.from(p.value.subarray(a, b)).sort((x, y) => y - x)[cfg.maxPrefsPerUser - 1];
    for (let x = a; x < b; x++) {
      const r = p.value[x];
      if (Math.abs(r) < cut) continue;
      const j = p.item[x];
      for (let i = 0; i < I; i++) {
        const s = sim[j * I + i];
        if (Number.isNaN(s) || bought[i]) continue;
        num[i] += s * r;
        den[i] += Math.abs(s);
        cnt[i]++;
      }
    }
    const recs: Recommendation[] = [];
    for (let i = 0; i < I; i++) if (cnt[i] >= 2 && den[i] > 0) recs.push({ item: i, score: num[i] / den[i] });
    recs.sort((x, y) => y.score - x.score || x.item - y.item);
    out.push(recs.slice(0, cfg.top));
  }
  return out;
}

/** Most-popular items (cars that bought them) each user did not buy; ties by item. */
export function popularAll(p: Prefs, top: number): Recommendation[][] {
  const I = p.items.length;
  const pop = new Float64Array(I);
  for (let x = 0; x < p.item.length; x++) pop[p.item[x]]++;
  const order = Array.from({ length: I }, (_, i) => i).sort((a, b) => pop[b] - pop[a] || a - b);
  const out: Recommendation[][] = [];
  for (let u = 0; u < p.users.length; u++) {
    const bought = new Set(p.item.subarray(p.start[u], p.start[u + 1]));
    out.push(order.filter((i) => !bought.has(i)).slice(0, top).map((i) => ({ item: i, score: pop[i] })));
  }
  return out;
}
