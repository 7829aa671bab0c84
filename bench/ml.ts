/**
 * `npm run bench:ml` — the analyses against scikit-learn (Debian's python3-sklearn, /usr/bin/python3)
 * on the same exported data, in the same run.
 *
 * 1. Random forest on one day's status mart (100 cars, ~2 M rows after the adult-owner join): ours
 *    (5 trees, depth 5, 4 = ⌈√14⌉ features per split, 32 bins) vs RandomForestClassifier(n_estimators=5,
 *    max_depth=5, max_features=4, bootstrap, n_jobs=1) on the same 70/30 split; training time, test
 *    accuracy, and our training working set next to the feature matrix (n × 14 × 4 bytes).
 * 2. k-means, k = 200, on the 2,600-car master (capacity, year, model, sex, marriage): ours (k-means++,
 *    4 restarts, silhouette included) vs KMeans(n_clusters=200, n_init=4) + silhouette_score.
 * 3. Recommendation on 100,000 purchases: read the mart → recommend → write smartcar_item_recommend,
 *    end to end in-process, and the CLI's wall time; precision@3 next to the most-popular baseline.
 *
 * The data directory (BENCH_ML_DIR, default .bench-out/ml) is built once and reused; BENCH_ML_FRESH=1
 * rebuilds it. The machine is shared: see BENCHMARKS.md for the conditions of recorded runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { writeBuyList, writeMaster, writeStatusDay } from '../src/sim/index.ts';
import { buildMart, loadReference, openCatalog } from '../src/sql/index.ts';
import {
  buildPrefs, clusterCars, evaluateForest, forestDefaults, holdoutEvaluate, kmeansSchema, readCarFeatures, readLabelled, readPurchases,
  recommendPrefs, splitRows, trainForest, writeRecommendations,
} from '../src/ml/index.ts';
import { SMARTCAR_BIN } from './support.ts';

const DIR = path.resolve(process.env.BENCH_ML_DIR ?? '.bench-out/ml');
const DAY = '20240101', MONTH = '202003';
const log = (s: string) => process.stdout.write(s + '\n');
const secs = (t0: number) => (performance.now() - t0) / 1000;
const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

async function prepare(): Promise<void> {
  const ready = path.join(DIR, '.ready');
  if (fs.existsSync(ready) && !process.env.BENCH_ML_FRESH) return;
  fs.rmSync(DIR, { recursive: true, force: true });
  const inDir = path.join(DIR, 'in');
  log('preparing: master, one day of 100 cars, 100,000 purchases …');
  loadReference('master', await writeMaster({ outDir: inDir, seed: 1 }), DIR);
  const f = await writeStatusDay({ date: DAY, cars: 100, outDir: inDir, seed: 3 });
  const part = path.join(DIR, 'lake', 'collect', 'car-batch-log', `wrk_date=${DAY}`);
  fs.mkdirSync(part, { recursive: true });
  const r = spawnSync('sh', ['-c', `grep -aE '^[0-9]{14}' '${f.file}' | sed 's/$/,${DAY}/' > '${part}/car-batch-log.1.log'`]);
  if (r.status !== 0) throw new Error(String(r.stderr));
  fs.rmSync(f.file);
  await buildMart('status', DAY, { dataDir: DIR });
  loadReference('buylist', await writeBuyList({ outDir: inDir, month: MONTH, seed: 5 }), DIR);
  await buildMart('buylist', MONTH, { dataDir: DIR });
  fs.writeFileSync(ready, new Date().toISOString());
}

function python(script: string): Record<string, number> {
  const out = execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

async function forestBench(): Promise<void> {
  log('\n== random forest, one day of the status mart');
  const cat = await openCatalog({ dataDir: DIR });
  let t0 = performance.now();
  const set = await readLabelled(cat, [DAY]);
  await cat.close();
  const readS = secs(t0);
  const { train, test } = splitRows(set.keys, 1, 0.7);
  const F = set.features.length;
  // Export the same split for scikit-learn: row-major int32 features, uint8 labels.
  const exp = (rows: Uint32Array, name: string) => {
    const x = new Int32Array(rows.length * F);
    rows.forEach((r, i) => { for (let f = 0; f < F; f++) x[i * F + f] = set.features[f][r]; });
    fs.writeFileSync(path.join(DIR, `${name}.x`), Buffer.from(x.buffer));
    fs.writeFileSync(path.join(DIR, `${name}.y`), Buffer.from(Uint8Array.from(rows, (r) => set.labels[r])));
  };
  exp(train, 'train');
  exp(test, 'test');
  const featureBytes = set.rows * F * 4;
  // One seed's accuracy moves by ±1–2 points with the 4-of-14 feature draw, on either side: ten seeds a side (the
  // default; BENCH_ML_SEEDS=n) make the means comparable to the 0.5-point target.
  const SEEDS = Array.from({ length: Number(process.env.BENCH_ML_SEEDS ?? 10) }, (_, i) => i + 1);
  const ours: { s: number; acc: number; extra: number }[] = [];
  for (const seed of SEEDS) {
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    let during = 0;
    t0 = performance.now();
    const forest = trainForest({ features: set.features, labels: set.labels, numClasses: 2, keys: set.keys, rows: train }, { ...forestDefaults(), seed },
      () => { during = Math.max(during, process.memoryUsage().arrayBuffers - before); });
    const s = secs(t0);
    ours.push({ s, acc: evaluateForest(forest, set, test).accuracy, extra: during });
  }
  const sk = python(`
import json, time, numpy as np
from sklearn.ensemble import RandomForestClassifier
F = ${F}
xtr = np.fromfile('${DIR}/train.x', dtype=np.int32).reshape(-1, F).astype(np.float32); ytr = np.fromfile('${DIR}/train.y', dtype=np.uint8)
xte = np.fromfile('${DIR}/test.x', dtype=np.int32).reshape(-1, F).astype(np.float32); yte = np.fromfile('${DIR}/test.y', dtype=np.uint8)
fits, accs = [], []
for seed in ${JSON.stringify(SEEDS)}:
    m = RandomForestClassifier(n_estimators=5, max_depth=5, max_features=4, bootstrap=True, n_jobs=1, random_state=seed)
    t = time.perf_counter(); m.fit(xtr, ytr); fits.append(time.perf_counter() - t)
    accs.append(float((m.predict(xte) == yte).mean()))
print(json.dumps({'fits': fits, 'accs': accs}))`) as unknown as { fits: number[]; accs: number[] };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const pct = (xs: number[]) => xs.map((x) => (x * 100).toFixed(3)).join(', ');
  log(`rows ${set.rows} (train ${train.length}, test ${test.length}); read through the catalog in ${readS.toFixed(2)} s; seeds ${SEEDS.join(', ')}`);
  log(`ours     train ${ours.map((o) => o.s.toFixed(2)).join(', ')} s (mean ${mean(ours.map((o) => o.s)).toFixed(2)})   test accuracy ${pct(ours.map((o) => o.acc))} % (mean ${(mean(ours.map((o) => o.acc)) * 100).toFixed(3)})`);
  log(`sklearn  fit   ${sk.fits.map((x) => x.toFixed(2)).join(', ')} s (mean ${mean(sk.fits).toFixed(2)})   test accuracy ${pct(sk.accs)} % (mean ${(mean(sk.accs) * 100).toFixed(3)})`);
  const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
  const se = Math.sqrt(sd(ours.map((o) => o.acc)) ** 2 / SEEDS.length + sd(sk.accs) ** 2 / SEEDS.length) * 100;
  log(`standard error of the difference of the means ${se.toFixed(3)} points (${SEEDS.length} seeds a side)`);
  log(`time ours/sklearn ${(mean(ours.map((o) => o.s)) / mean(sk.fits)).toFixed(2)}× (target ≤ 2×); mean accuracy difference ${((mean(ours.map((o) => o.acc)) - mean(sk.accs)) * 100).toFixed(3)} points (target within 0.5)`);
  // Without randomness the two must agree: one depth-5 tree on every feature, no bootstrap. A gap here would be
  // the algorithm (binning, split search); the forests' gap above is then the bootstrap and feature draws.
  const tree = trainForest({ features: set.features, labels: set.labels, numClasses: 2, keys: set.keys, rows: train }, { ...forestDefaults(), numTrees: 1, featureSubset: 'all', bootstrap: 'false' });
  const oursTree = evaluateForest(tree, set, test).accuracy;
  const skTree = python(`
import json, numpy as np
from sklearn.tree import DecisionTreeClassifier
F = ${F}
xtr = np.fromfile('${DIR}/train.x', dtype=np.int32).reshape(-1, F).astype(np.float32); ytr = np.fromfile('${DIR}/train.y', dtype=np.uint8)
xte = np.fromfile('${DIR}/test.x', dtype=np.int32).reshape(-1, F).astype(np.float32); yte = np.fromfile('${DIR}/test.y', dtype=np.uint8)
m = DecisionTreeClassifier(max_depth=5, random_state=1).fit(xtr, ytr)
print(json.dumps({'acc': float((m.predict(xte) == yte).mean())}))`) as { acc: number };
  log(`one tree, all features, no bootstrap: ours ${(oursTree * 100).toFixed(3)} %, sklearn DecisionTreeClassifier(max_depth=5) ${(skTree.acc * 100).toFixed(3)} % (difference ${((oursTree - skTree.acc) * 100).toFixed(3)} points)`);
  const extra = Math.max(...ours.map((o) => o.extra));
  log(`memory: feature matrix ${MiB(featureBytes)} (int32); training's own arrays (bins, bootstrap weights, row index) ${MiB(extra)} measured on top → ${((featureBytes + extra) / featureBytes).toFixed(2)}× the matrix (target ≤ ~2×)`);
}

async function kmeansBench(): Promise<void> {
  log('\n== k-means, k = 200, car master');
  const cat = await openCatalog({ dataDir: DIR });
  const f = await readCarFeatures(cat, ['capacity', 'year', 'model', 'sex', 'marriage']);
  await cat.close();
  fs.writeFileSync(path.join(DIR, 'cars.x'), Buffer.from(f.x.buffer));
  const cfg = kmeansSchema.parse({ k: 200 });
  const runs: number[] = [];
  let c = clusterCars(f, cfg);
  for (let i = 0; i < 3; i++) { const t0 = performance.now(); c = clusterCars(f, cfg); runs.push(secs(t0)); }
  const d = f.features.length;
  const sk = python(`
import json, time, numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
x = np.fromfile('${DIR}/cars.x', dtype=np.float64).reshape(-1, ${d})
best = None
for r in range(3):
    t = time.perf_counter(); m = KMeans(n_clusters=200, n_init=4, random_state=1).fit(x); s = silhouette_score(x, m.labels_); e = time.perf_counter() - t
    best = e if best is None else min(best, e)
print(json.dumps({'s': best, 'sil': float(s), 'inertia': float(m.inertia_)}))`);
  log(`${f.cars.length} cars, ${c.distinctPoints} distinct feature vectors`);
  log(`ours     best ${Math.min(...runs).toFixed(3)} s (runs ${runs.map((r) => r.toFixed(3)).join(', ')})   silhouette ${c.silhouette.toFixed(4)}   inertia ${c.inertia.toFixed(4)}`);
  log(`sklearn  best ${sk.s.toFixed(3)} s (fit + silhouette_score)   silhouette ${sk.sil.toFixed(4)}   inertia ${sk.inertia.toFixed(4)}`);
  log(`silhouette difference ${(c.silhouette - sk.sil).toFixed(4)} (target within 0.02); time target ≤ 1 s`);
}

async function recommendBench(): Promise<void> {
  log('\n== recommendation, 100,000 purchases');
  const runs: number[] = [];
  let purchases = 0, recRows = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const cat = await openCatalog({ dataDir: DIR });
    const ps = await readPurchases(cat, MONTH);
    const p = buildPrefs(ps);
    const recs = recommendPrefs(p, { top: 3, similarity: 'cooccurrence', maxPrefsPerUser: 10, maxSimilaritiesPerItem: 100 });
    const { rows } = await writeRecommendations(cat, DIR, p, recs, MONTH);
    await cat.close();
    runs.push(secs(t0));
    purchases = ps.length;
    recRows = rows;
    if (i === 0) {
      const q = holdoutEvaluate(ps, { top: 3, similarity: 'cooccurrence', maxPrefsPerUser: 10, maxSimilaritiesPerItem: 100 }, 0.2, 1);
      for (const x of q) log(`  ${x.name.padEnd(14)} precision@3 ${x.precision.toFixed(4)}   recall@3 ${x.recall.toFixed(4)}   (${x.cars} cars)`);
    }
  }
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [SMARTCAR_BIN, 'ml', 'recommend', '--month', MONTH, '--data', DIR, '--json'], { encoding: 'utf8' });
  const cliS = secs(t0);
  if (r.status !== 0) throw new Error(r.stderr);
  log(`100,000 purchases (${purchases} distinct car–item pairs of adult owners in the mart) → ${recRows} recommendations; in-process end to end best ${Math.min(...runs).toFixed(3)} s (runs ${runs.map((x) => x.toFixed(3)).join(', ')}); the CLI process ${cliS.toFixed(2)} s wall (target ≤ 2 s)`);
}

log(`bench:ml on ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
await prepare();
await forestBench();
await kmeansBench();
await recommendBench();
log(`\nload average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
