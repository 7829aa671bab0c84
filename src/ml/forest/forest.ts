/**
 * A random forest of histogram-based classification trees over typed arrays (Spark ML's
 * RandomForestClassifier: Gini impurity, Poisson(1) bootstrap, a random feature subset per node,
 * binned split candidates; its defaults are ours, see schema.ts).
 *
 * Training works on the binned columns (one byte per value): a node's rows are a range of one index
 * array, partitioned in place at each split; a split is chosen from one class histogram per tried
 * feature. Every random draw belongs to a row's key (its bootstrap weight) or to a node's position in
 * the tree (its feature subset), and the histograms sum integer weights exactly, so the same rows in
 * any order give the same forest.
 *
 * A tree is stored as parallel arrays in preorder; an internal node sends a value v left when
 * v ≤ threshold. A leaf holds its class probabilities (the training weights' shares). The forest's
 * probability is the mean of its trees' (as Spark and scikit-learn); the class is its arg max, the
 * lowest class on a tie. Feature importances are Spark's: per tree Σ(node weight × gain) per feature,
 * normalised per tree, summed, normalised.
 */
import { binColumn, findBins, valueCounts, type FeatureBins } from './bins.ts';
import { hash32, rng, unit } from '../random.ts';
import type { ForestConfig } from './schema.ts';

export interface TrainingSet {
  /** One column per feature, integer-valued, all of the same length. */
  features: Int32Array[];
  /** Class index of each row, 0..numClasses−1. */
  labels: Uint8Array;
  numClasses: number;
  /** A stable identity of each row (a hash of its key), for the bootstrap draws. */
  keys: Uint32Array;
  /** The rows to train on (default: all). */
  rows?: Uint32Array;
}

export interface Tree {
  /** Feature of an internal node; −1 for a leaf. */
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** numClasses probabilities per node (leaves are the ones read). */
  prob: Float64Array;
  /** Training weight that reached the node. */
  weight: Float64Array;
}

export interface Forest {
  numClasses: number;
  numFeatures: number;
  trees: Tree[];
  importances: number[];
}

export interface TrainProgress {
  (treesDone: number, trees: number): void;
}

const POISSON1 = (() => {
  const cdf: number[] = [];
  let p = Math.exp(-1), acc = 0;
  for (let k = 0; k < 12; k++) {
    acc += p;
    cdf.push(acc);
    p /= k + 1;
  }
  return cdf;
})();

function poisson1(u: number): number {
  let k = 0;
  while (k < POISSON1.length - 1 && u >= POISSON1[k]) k++;
  return k;
}

export function subsetSize(strategy: ForestConfig['featureSubset'], numFeatures: number, numTrees: number): number {
  const s = strategy === 'auto' ? (numTrees > 1 ? 'sqrt' : 'all') : strategy;
  if (s === 'all') return numFeatures;
  if (s === 'sqrt') return Math.ceil(Math.sqrt(numFeatures));
  if (s === 'log2') return Math.max(1, Math.ceil(Math.log2(numFeatures)));
  return Math.ceil(numFeatures / 3);
}

const gini = (counts: Float64Array | number[], off: number, k: number, w: number) => {
  if (w <= 0) return 0;
  let s = 1;
  for (let c = 0; c < k; c++) { const p = counts[off + c] / w; s -= p * p; }
  return s;
};

interface Growing {
  feature: number[]; threshold: number[]; left: number[]; right: number[]; prob: number[]; weight: number[];
}

export function trainForest(data: TrainingSet, cfg: ForestConfig, progress?: TrainProgress): Forest {
  const F = data.features.length;
  const K = data.numClasses;
  const rows = data.rows ?? Uint32Array.from({ length: data.labels.length }, (_, i) => i);
  const bins: FeatureBins[] = data.features.map((col) => {
    const vc = valueCounts(col, rows);
    return findBins(vc.values, vc.counts, cfg.maxBins);
  });
  const binned = data.features.map((col, f) => binColumn(col, bins[f]));
  const nBins = bins.map((b) => b.thresholds.length + 1);
  const m = subsetSize(cfg.featureSubset, F, cfg.numTrees);
  const bootstrap = cfg.bootstrap === 'auto' ? cfg.numTrees > 1 : cfg.bootstrap === 'true';
  const labels = data.labels;
  const weights = new Uint8Array(labels.length); // Poisson(1) draws stay far below 256
  const idx = new Uint32Array(rows.length);
  const importances = new Float64Array(F);
  const trees: Tree[] = [];
  const hist = nBins.map((b) => new Float64Array(b * K));
  const counts = new Float64Array(K);

  for (let t = 0; t < cfg.numTrees; t++) {
    let n = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const w = bootstrap ? poisson1(unit(hash32(data.keys[r], cfg.seed, t))) : 1;
      weights[r] = w;
      if (w > 0) idx[n++] = r;
    }
    const g: Growing = { feature: [], threshold: [], left: [], right: [], prob: [], weight: [] };
    const treeImp = new Float64Array(F);

    const build = (start: number, end: number, depth: number, pos: number): number => {
      counts.fill(0);
      let W = 0;
      for (let i = start; i < end; i++) { const r = idx[i]; counts[labels[r]] += weights[r]; }
      for (let c = 0; c < K; c++) W += counts[c];
      const node = g.feature.length;
      g.feature.push(-1); g.threshold.push(0); g.left.push(-1); g.right.push(-1); g.weight.push(W);
      for (let c = 0; c < K; c++) g.prob.push(W > 0 ? counts[c] / W : 1 / K);
      const parentImpurity = gini(counts, 0, K, W);
      if (depth >= cfg.maxDepth || parentImpurity <= 0 || W < 2 * cfg.minInstancesPerNode) return node;

      // The node's feature subset: features in an order drawn from the node's position in the tree, m of
      // them visited. As in scikit-learn's splitter, a feature constant in the node counts as visited, and
      // the draw goes on past m only while every visited feature was constant (so a node that can split
      // does). Counting only the varying ones instead tries more features in deep nodes, and measured 1.5
      // accuracy points above scikit-learn's forest over 30 seeds (BENCHMARKS.md). Ties between equal gains
      // go to the lower feature, then bin.
      const order = Array.from({ length: F }, (_, f) => f);
      if (m < F) {
        const draw = rng(hash32(cfg.seed, t, pos));
        for (let i = 0; i < F - 1; i++) { const j = i + Math.floor(draw() * (F - i)); [order[i], order[j]] = [order[j], order[i]]; }
      }
      let bestGain = 0, bestF = -1, bestBin = -1;
      const leftC = new Float64Array(K);
      let visited = 0;
      let constant = 0;
      for (const f of order) {
        if (visited >= m && visited > constant) break;
        visited++;
        const h = hist[f];
        h.fill(0);
        const col = binned[f];
        if (K === 2) {
          for (let i = start; i < end; i++) { const r = idx[i]; h[(col[r] << 1) | labels[r]] += weights[r]; }
        } else {
          for (let i = start; i < end; i++) { const r = idx[i]; h[col[r] * K + labels[r]] += weights[r]; }
        }
        let used = 0;
        for (let b = 0; b < nBins[f] && used < 2; b++) { let s = 0; for (let c = 0; c < K; c++) s += h[b * K + c]; if (s > 0) used++; }
        if (used < 2) {
          constant++;
          continue;
        }
        leftC.fill(0);
        let lw = 0;
        for (let b = 0; b < nBins[f] - 1; b++) {
          for (let c = 0; c < K; c++) { leftC[c] += h[b * K + c]; lw += h[b * K + c]; }
          const rw = W - lw;
          if (lw < cfg.minInstancesPerNode || rw < cfg.minInstancesPerNode) continue;
          let gl = 1, gr = 1;
          for (let c = 0; c < K; c++) {
            const pl = leftC[c] / lw, pr = (counts[c] - leftC[c]) / rw;
            gl -= pl * pl; gr -= pr * pr;
          }
          const gain = parentImpurity - (lw / W) * gl - (rw / W) * gr;
          if (gain > bestGain + 1e-12 || (gain > bestGain - 1e-12 && gain > 1e-12 && (f < bestF || (f === bestF && b < bestBin)))) { bestGain = Math.max(gain, bestGain); bestF = f; bestBin = b; }
        }
      }
      if (bestF < 0 || bestGain < cfg.minInfoGain) return node;
      // Partition the node's rows: bin ≤ bestBin to the front.
      const col = binned[bestF];
      let a = start, z = end - 1;
      while (a <= z) {
        if (col[idx[a]] <= bestBin) a++;
        else { const tmp = idx[a]; idx[a] = idx[z]; idx[z] = tmp; z--; }
      }
      treeImp[bestF] += W * bestGain;
      g.feature[node] = bestF;
      g.threshold[node] = bins[bestF].thresholds[bestBin];
      g.left[node] = build(start, a, depth + 1, 2 * pos + 1);
      g.right[node] = build(a, end, depth + 1, 2 * pos + 2);
      return node;
    };
    build(0, n, 0, 0);
    const sum = treeImp.reduce((s, x) => s + x, 0);
    if (sum > 0) for (let f = 0; f < F; f++) importances[f] += treeImp[f] / sum;
    trees.push({
      feature: Int32Array.from(g.feature), threshold: Float64Array.from(g.threshold), left: Int32Array.from(g.left),
      right: Int32Array.from(g.right), prob: Float64Array.from(g.prob), weight: Float64Array.from(g.weight),
    });
    progress?.(t + 1, cfg.numTrees);
  }
  const total = importances.reduce((s, x) => s + x, 0);
  return { numClasses: K, numFeatures: F, trees, importances: Array.from(importances, (x) => (total > 0 ? x / total : 0)) };
}

/** Class probabilities of one row (`value(f)` gives its feature f). */
export function predictProba(forest: Forest, value: (f: number) => number, out = new Float64Array(forest.numClasses)): Float64Array {
  out.fill(0);
  const K = forest.numClasses;
  for (const t of forest.trees) {
    let node = 0;
    while (t.feature[node] >= 0) node = value(t.feature[node]) <= t.threshold[node] ? t.left[node] : t.right[node];
    for (let c = 0; c < K; c++) out[c] += t.prob[node * K + c];
  }
  for (let c = 0; c < K; c++) out[c] /= forest.trees.length;
  return out;
}

export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}

/** Predicted class and its probability for each of `rows` (default all) of column-major features. */
export function predictColumns(forest: Forest, features: Int32Array[], rows?: Uint32Array): { classes: Uint8Array; prob: Float64Array } {
  const n = rows ? rows.length : features[0]?.length ?? 0;
  const classes = new Uint8Array(n), prob = new Float64Array(n);
  const p = new Float64Array(forest.numClasses);
  let r = 0;
  const value = (f: number) => features[f][r];
  for (let i = 0; i < n; i++) {
    r = rows ? rows[i] : i;
    predictProba(forest, value, p);
    const c = argmax(p);
    classes[i] = c;
    prob[i] = p[c];
  }
  return { classes, prob };
}
