/**
 * `smartcar ml cluster`: k-means over the car master's derived features (the classes below), read through the
 * SQL catalog, into smartcar_car_cluster (car_number, cluster).
 *
 * The derived master: capacity class (< 2000 소형, < 3000 중형, < 4000 대형, ≥ 4000 초대형 — the
 * original left ≥ 4000 empty), car age class against 2016 (≤ 4 years NEW, ≤ 8 NORMAL, else OLD),
 * model, sex, owner age decade ⌊age × 0.1⌋ × 10, marriage, job, region. Each column is string-indexed
 * as Spark's StringIndexer does (most frequent value 0; ties by value), then min-max scaled to [0, 1].
 */
import { UserError, progressBar } from '../../core/index.ts';
import type { Catalog } from '../../sql/index.ts';
import { dataDirOf, seconds, withCatalog } from '../common.ts';
import { parseOptions } from '../options.ts';
import { drawFigure } from '../plot.ts';
import { clusterScatter, elbowCurve } from '../plots.ts';
import { writeResultTable } from '../tables.ts';
import { dedupe, kmeans, principalComponents, silhouette, type KMeansResult, type Points } from './kmeans.ts';
import { CLUSTER_FEATURES, clusterSchema, parseRange, type ClusterFeature, type KMeansConfig } from './schema.ts';

export const DERIVED_MASTER_SQL = `SELECT car_number,
    CASE WHEN cap < 2000 THEN '소형' WHEN cap < 3000 THEN '중형' WHEN cap < 4000 THEN '대형' ELSE '초대형' END AS capacity,
    CASE WHEN 2016 - yr <= 4 THEN 'NEW' WHEN 2016 - yr <= 8 THEN 'NORMAL' ELSE 'OLD' END AS year,
    car_model AS model, sex, CAST(CAST(floor(age_i * 0.1) * 10 AS INTEGER) AS VARCHAR) AS age, marriage, job, region
  FROM (SELECT *, TRY_CAST(car_capacity AS INTEGER) AS cap, TRY_CAST(car_year AS INTEGER) AS yr, TRY_CAST(age AS INTEGER) AS age_i FROM smartcar_master)
  WHERE cap IS NOT NULL AND yr IS NOT NULL AND age_i IS NOT NULL AND car_model IS NOT NULL
  ORDER BY car_number`;

export interface CarFeatures {
  cars: string[];
  features: ClusterFeature[];
  /** Per feature: its values by index (most frequent first). */
  values: string[][];
  /** n × d, min-max scaled indices. */
  x: Float64Array;
}

export async function readCarFeatures(cat: Catalog, features: ClusterFeature[]): Promise<CarFeatures> {
  const r = await cat.query(DERIVED_MASTER_SQL);
  if (r.rows.length === 0) {
    throw new UserError('the car master (smartcar_master) has no cars: load it first (smartcar gen master --out DIR && smartcar load master DIR/CarMaster.txt)');
  }
  const cols = features.map((f) => r.columns.indexOf(f));
  const values = cols.map((c) => {
    const freq = new Map<string, number>();
    for (const row of r.rows) { const v = String(row[c]); freq.set(v, (freq.get(v) ?? 0) + 1); }
    return [...freq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[0]);
  });
  const d = features.length, n = r.rows.length;
  const x = new Float64Array(n * d);
  const index = values.map((vs) => new Map(vs.map((v, i) => [v, i])));
  r.rows.forEach((row, i) => cols.forEach((c, t) => {
    const m = values[t].length;
    x[i * d + t] = m > 1 ? index[t].get(String(row[c]))! / (m - 1) : 0;
  }));
  return { cars: r.rows.map((row) => String(row[0])), features, values, x };
}

export interface Clustering extends KMeansResult {
  silhouette: number;
  /** Cluster of each car (input order). */
  carCluster: Int32Array;
  distinctPoints: number;
  ms: number;
}

export function clusterCars(f: CarFeatures, cfg: KMeansConfig): Clustering {
  const t0 = performance.now();
  const d = f.features.length;
  const { points, index } = dedupe(f.x, f.cars.length, d);
  if (cfg.k > points.n) throw new UserError(`--k ${cfg.k} is more than the ${points.n} distinct cars (feature vectors) of ${f.features.join(',')}: choose k ≤ ${points.n} or add features`);
  const res = kmeans(points, cfg);
  const sil = silhouette(points, res.assign, cfg.k);
  const carCluster = Int32Array.from(index, (j) => res.assign[j]);
  return { ...res, silhouette: sil, carCluster, distinctPoints: points.n, ms: performance.now() - t0 };
}

const out = (s: string) => process.stdout.write(s);

export async function clusterCommand(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(clusterSchema, raw);
  const dataDir = await dataDirOf(o);
  await withCatalog(dataDir, async (cat) => {
    const f = await readCarFeatures(cat, o.features);
    if (o.kRange) return kRange(dataDir, f, o, parseRange(o.kRange), o.plots, !!o.json);
    const c = clusterCars(f, o);
    const file = await writeResultTable(cat, dataDir, 'smartcar_car_cluster', [{ name: 'car_number', type: 'VARCHAR' }, { name: 'cluster', type: 'INTEGER' }],
      f.cars.map((car, i) => [car, c.carCluster[i]]));
    const d = f.features.length;
    const members = Array.from({ length: c.k }, () => [] as string[]);
    f.cars.forEach((car, i) => members[c.carCluster[i]].push(car));
    // A centre in the features' own terms: each coordinate's nearest value.
    const centre = (k: number) => f.features.map((name, t) => {
      const m = f.values[t].length;
      const v = c.centers[k * d + t];
      return { feature: name, scaled: v, nearest: f.values[t][Math.round(v * (m - 1))] ?? f.values[t][0] };
    });
    const pcs = principalComponents(f.x, f.cars.length, d);
    const pca = drawFigure(dataDir, 'cluster', 'cluster-pca', clusterScatter(pcs, c.carCluster, c.k, `k-means, k = ${c.k}: cars on two principal components`), o.plots);
    const plots = pca ? [pca] : [];
    const clusters = members.map((cars, k) => ({ cluster: k, size: cars.length, centre: centre(k), cars }));
    if (o.json) {
      out(JSON.stringify({ k: c.k, features: f.features, cars: f.cars.length, distinctPoints: c.distinctPoints, inertia: c.inertia, silhouette: c.silhouette, iterations: c.iterations, ms: c.ms, table: 'smartcar_car_cluster', file, plots, clusters }) + '\n');
      return;
    }
    out(`k-means k = ${c.k} over ${f.cars.length} cars (${c.distinctPoints} distinct) on ${f.features.join(', ')}: silhouette ${c.silhouette.toFixed(4)}, inertia ${c.inertia.toFixed(4)}, ${c.iterations} iterations, ${seconds(c.ms)}\n`);
    out(`→ smartcar_car_cluster (${file})\n\n`);
    const sorted = [...clusters].sort((a, b) => b.size - a.size || a.cluster - b.cluster);
    for (const cl of sorted.slice(0, o.list)) {
      out(`cluster ${cl.cluster}  size ${cl.size}  centre ${cl.centre.map((x) => `${x.feature}=${x.nearest}(${x.scaled.toFixed(2)})`).join(' ')}\n  ${cl.cars.join(' ')}\n`);
    }
    if (sorted.length > o.list) out(`… ${sorted.length - o.list} more clusters (--list N, or --json for all)\n`);
    for (const p of plots) out(`plot ${p}\n`);
  });
}

function kRange(dataDir: string, f: CarFeatures, cfg: KMeansConfig, [from, to]: [number, number], plotsDir: string | undefined, json: boolean): void {
  const { points } = dedupe(f.x, f.cars.length, f.features.length);
  const last = Math.min(to, points.n);
  const rows: { k: number; inertia: number; silhouette: number; iterations: number }[] = [];
  const bar = progressBar('k-means', Math.max(0, last - from + 1), 'k');
  for (let k = from; k <= last; k++) {
    const r = kmeans(points, { ...cfg, k });
    rows.push({ k, inertia: r.inertia, silhouette: silhouette(points as Points, r.assign, k), iterations: r.iterations });
    bar.increment();
  }
  bar.stop();
  const elbow = rows.length ? drawFigure(dataDir, 'cluster', 'cluster-elbow', elbowCurve(rows), plotsDir) : undefined;
  const plots = elbow ? [elbow] : [];
  if (json) {
    out(JSON.stringify({ features: f.features, distinctPoints: points.n, rows, plots }) + '\n');
    return;
  }
  if (last < to) out(`(k stops at ${last}: the cars have ${points.n} distinct feature vectors)\n`);
  out(`${'k'.padStart(5)}${'inertia'.padStart(14)}${'silhouette'.padStart(12)}\n`);
  for (const r of rows) out(`${String(r.k).padStart(5)}${r.inertia.toFixed(4).padStart(14)}${r.silhouette.toFixed(4).padStart(12)}\n`);
  for (const p of plots) out(`plot ${p}\n`);
}

export { CLUSTER_FEATURES };
