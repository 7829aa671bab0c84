import { describe, expect, it, vi } from 'vitest';
import { openCatalog } from '../../src/sql/index.ts';
import { clusterCars, dedupe, kmeans, kmeansSchema, readCarFeatures, silhouette } from '../../src/ml/index.ts';
import { cli, masterInto, tmpDir } from './support.ts';

// Trains models and starts CLI processes: generous on a shared 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

/** Points with many duplicates: n rows drawn from `distinct` random points in d dimensions. */
function data(n: number, distinct: number, d: number, seed: number): Float64Array {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const base = Array.from({ length: distinct }, () => Array.from({ length: d }, () => Math.round(r() * 8) / 8));
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) x.set(base[i < distinct ? i : Math.floor(r() * distinct)], i * d);
  return x;
}

/** Direct O(n²) silhouette (scikit-learn's definition), on every row, no merging of duplicates. */
function directSilhouette(x: Float64Array, n: number, d: number, label: Int32Array): number {
  const dist = (i: number, j: number) => Math.sqrt(Array.from({ length: d }, (_, t) => (x[i * d + t] - x[j * d + t]) ** 2).reduce((a, b) => a + b, 0));
  const clusters = [...new Set(label)];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const mean = (c: number, excludeSelf: boolean) => {
      let s = 0, m = 0;
      for (let j = 0; j < n; j++) if (label[j] === c && !(excludeSelf && j === i)) { s += dist(i, j); m++; }
      return m ? s / m : NaN;
    };
    if (label.filter((c) => c === label[i]).length === 1) continue;
    const a = mean(label[i], true);
    const b = Math.min(...clusters.filter((c) => c !== label[i]).map((c) => mean(c, false)));
    total += Math.max(a, b) > 0 ? (b - a) / Math.max(a, b) : 0;
  }
  return total / n;
}

describe('k-means', () => {
  it('with k = the number of distinct points has inertia 0', () => {
    const n = 600, d = 3;
    const x = data(n, 40, d, 5);
    const { points, index } = dedupe(x, n, d);
    const distinct = points.n;
    expect(distinct).toBeGreaterThan(30);
    const r = kmeans(points, { ...kmeansSchema.parse({}), k: distinct });
    expect(r.inertia).toBe(0);
    // Every distinct point is a cluster of its own.
    expect(new Set(Array.from(index, (j) => r.assign[j])).size).toBe(distinct);
  });

  it('silhouette equals a direct O(n²) computation, with duplicates and a singleton cluster', () => {
    const n = 300, d = 4;
    const x = data(n, 60, d, 9);
    x.set([5, 5, 5, 5], 0); // an outlier: alone in its cluster
    const { points, index } = dedupe(x, n, d);
    for (const k of [2, 7, 25]) {
      const r = kmeans(points, { ...kmeansSchema.parse({}), k });
      const label = Int32Array.from(index, (j) => r.assign[j]);
      expect(silhouette(points, r.assign, k)).toBeCloseTo(directSilhouette(x, n, d, label), 10);
    }
  });

  it('is reproducible with a seed and its restarts never do worse than one run', () => {
    const x = data(500, 120, 2, 3);
    const { points } = dedupe(x, 500, 2);
    const cfg = { ...kmeansSchema.parse({}), k: 10 };
    expect(kmeans(points, cfg).assign).toEqual(kmeans(points, cfg).assign);
    expect(kmeans(points, cfg).inertia).toBeLessThanOrEqual(kmeans(points, { ...cfg, restarts: 1 }).inertia + 1e-12);
  });
});

describe('smartcar ml cluster', () => {
  it('gives cars of 4000 cc and more a capacity class of their own and writes smartcar_car_cluster', async () => {
    const dataDir = tmpDir('cluster');
    await masterInto(dataDir, 3, (rs) => rs.map((r, i) => (i % 10 === 0 ? [...r.slice(0, 6), i % 20 === 0 ? '4500' : '4000', ...r.slice(7)] : r)));
    const cat = await openCatalog({ dataDir });
    const f = await readCarFeatures(cat, ['capacity', 'year', 'model', 'sex', 'marriage']);
    await cat.close();
    expect(f.values[0].sort()).toEqual(['대형', '소형', '중형', '초대형'].sort());
    expect(f.cars.length).toBe(2600);
    const c = clusterCars(f, { ...kmeansSchema.parse({}), k: 20 });
    expect(c.silhouette).toBeGreaterThan(0);
    expect(() => clusterCars(f, { ...kmeansSchema.parse({}), k: 5000 })).toThrow(/more than the \d+ distinct cars/);
    const r = cli('ml', 'cluster', '--k', '20', '--data', dataDir, '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.silhouette).toBeCloseTo(c.silhouette, 12);
    const q = cli('sql', 'select count(*) as n, count(distinct cluster) as k from smartcar_car_cluster', '--data', dataDir, '--format', 'csv');
    expect(q.stdout.trim().split('\n')[1]).toBe('2600,20');
  }, 120_000);

  it('an empty car master names what to load, exit 2', () => {
    const r = cli('ml', 'cluster', '--data', tmpDir('empty'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('smartcar load master');
  });
});
