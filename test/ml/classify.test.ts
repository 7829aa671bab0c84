import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { openCatalog } from '../../src/sql/index.ts';
import {
  evaluateConfusion, evaluateForest, forestDefaults, readLabelled, splitRows, trainForest, writeModelFile, type LabelledSet, type Forest,
} from '../../src/ml/index.ts';
import { predictCommand } from '../../src/ml/classify/run.ts';
import { loadWorkflows, runWorkflow, SHIPPED_WORKFLOWS } from '../../src/flow/index.ts';
import { ruleClass, ruleClassOfArgs } from '../support/status-rule.ts';
import { cli, masterInto, statusMart, tmpDir } from './support.ts';

// Trains models and starts CLI processes: generous on a shared 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const DAY = '20240105';
const dataDir = tmpDir('classify');
let set: LabelledSet;
const SEED_CAR = '2000 2000 A 80 80 80 80 1 1 1 1 A B 50'.split(' ');

beforeAll(async () => {
  // Adult owners; the first eight cars (the simulated ones) spread over capacities, years and models,
  // the seed's example car (2000 cc, 2000, model A) among them.
  const spread = [[2000, 2000, 'A'], [1200, 2003, 'B'], [1500, 2006, 'C'], [2500, 2008, 'D'], [3000, 2011, 'E'], [1000, 2014, 'F'], [2000, 2001, 'A'], [3500, 2016, 'H'], [2000, 2000, 'A']];
  await masterInto(dataDir, 4, (rs) => rs.map((r, i) => [r[0], r[1], '40', ...r.slice(3, 6), ...(i < 9 ? spread[i].map(String) : r.slice(6))]));
  // A ninth car like the seed's example (2000 cc, 2000, A, brake B) whose battery sweeps 50–99 all day:
  // the simulated fleet rarely shows a battery under 60, the one thing that decides the example's class.
  const made = Array.from({ length: 21_600 }, (_, t) => {
    const s = t * 4, hh = String(Math.floor(s / 3600)).padStart(2, '0'), mm = String(Math.floor(s / 60) % 60).padStart(2, '0'), ss = String(s % 60).padStart(2, '0');
    return `${DAY}${hh}${mm}${ss},A0009,80,80,80,80,1,1,1,1,${t % 3 ? 'A' : 'B'},B,${50 + (t % 50)}`;
  });
  await statusMart(dataDir, DAY, 8, 11, made);
  const cat = await openCatalog({ dataDir });
  try {
    set = await readLabelled(cat, [DAY]);
  } finally {
    await cat.close();
  }
}, 240_000);

const forestJson = (f: Forest) => JSON.stringify(f.trees.map((t) => [...t.feature, ...t.threshold, ...t.left, ...t.prob]));

describe('the labelled status set', () => {
  it('labels every mart row as the seed\'s scoring rule does (independent oracle over the raw mart columns)', async () => {
    const cat = await openCatalog({ dataDir });
    const raw = (await cat.query(`select car_number, car_capacity, car_year, car_model, tire_fl, tire_fr, tire_bl, tire_br, light_fl, light_fr, light_bl, light_br, engine, break, battery from managed_smartcar_status_info where biz_date = '${DAY}'`)).rows;
    await cat.close();
    expect(raw.length).toBe(set.rows);
    expect(raw.length).toBe(9 * 21_600);
    const want = new Map<string, number>();
    for (const r of raw) {
      const s = r.map(String);
      const c = ruleClass({ car_capacity: +s[1], car_year: +s[2], car_model: s[3], tires: s.slice(4, 8).map(Number), lights: s.slice(8, 12).map(Number), engine: s[12], brake: s[13], battery: +s[14] });
      want.set(s[0], (want.get(s[0]) ?? 0) + (c === '비정상' ? 1 : 0));
    }
    const got = new Map<string, number>();
    for (let i = 0; i < set.rows; i++) {
      const car = String.fromCharCode(65 + Math.floor(set.cars[i] / 10000)) + String(set.cars[i] % 10000).padStart(4, '0');
      got.set(car, (got.get(car) ?? 0) + set.labels[i]);
    }
    expect(got).toEqual(want);
    const abnormal = [...want.values()].reduce((a, b) => a + b, 0);
    expect(abnormal).toBeGreaterThan(set.rows * 0.05); // both classes are there
    expect(abnormal).toBeLessThan(set.rows * 0.95);
  });
});

describe('the random forest', () => {
  it('is at least as accurate on the test part as a depth-5 single tree, and its metrics agree with scikit-learn', () => {
    const { train, test } = splitRows(set.keys, 1, 0.7);
    expect(train.length + test.length).toBe(set.rows);
    const data = { features: set.features, labels: set.labels, numClasses: 2, keys: set.keys, rows: train };
    const forest = trainForest(data, forestDefaults());
    const ef = evaluateForest(forest, set, test);
    // Against single depth-5 trees grown the forest's way (bootstrap, sqrt features per split) ...
    for (const seed of [1, 2, 3]) {
      const one = trainForest(data, { ...forestDefaults(), numTrees: 1, featureSubset: 'sqrt', bootstrap: 'true', seed });
      expect(ef.accuracy).toBeGreaterThanOrEqual(evaluateForest(one, set, test).accuracy);
    }
    // ... and, every feature tried at every split, against a decision tree (Spark's DecisionTreeClassifier).
    const tree = trainForest(data, { ...forestDefaults(), numTrees: 1 });
    const all = trainForest(data, { ...forestDefaults(), featureSubset: 'all' });
    expect(evaluateForest(all, set, test).accuracy).toBeGreaterThanOrEqual(evaluateForest(tree, set, test).accuracy);
    expect(ef.accuracy).toBeGreaterThan(0.8);
    // Recount the metrics with scikit-learn from the same predictions.
    const pred = test.map((r) => {
      const p = [0, 0];
      for (const t of forest.trees) {
        let n = 0;
        while (t.feature[n] >= 0) n = set.features[t.feature[n]][r] <= t.threshold[n] ? t.left[n] : t.right[n];
        p[0] += t.prob[2 * n]; p[1] += t.prob[2 * n + 1];
      }
      return p[1] > p[0] ? 1 : 0;
    });
    const dir = tmpDir('sk');
    fs.writeFileSync(path.join(dir, 'y.csv'), Array.from(test, (r, i) => `${set.labels[r]},${pred[i]}`).join('\n') + '\n');
    const py = `
import json, numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
y = np.loadtxt('${dir}/y.csv', delimiter=',', dtype=int)
p, r, f, s = precision_recall_fscore_support(y[:,0], y[:,1], labels=[0,1], zero_division=0)
print(json.dumps({'acc': accuracy_score(y[:,0], y[:,1]), 'cm': confusion_matrix(y[:,0], y[:,1], labels=[0,1]).tolist(), 'p': p.tolist(), 'r': r.tolist(), 'f': f.tolist()}))`;
    const sk = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' }));
    expect(ef.confusion).toEqual(sk.cm);
    expect(ef.accuracy).toBeCloseTo(sk.acc, 12);
    ef.perClass.forEach((c, i) => {
      expect(c.precision).toBeCloseTo(sk.p[i], 12);
      expect(c.recall).toBeCloseTo(sk.r[i], 12);
      expect(c.f1).toBeCloseTo(sk.f[i], 12);
    });
    // FPR of class c = FP / negatives, from scikit-learn's confusion matrix.
    const cm = sk.cm as number[][];
    expect(ef.perClass[1].falsePositiveRate).toBeCloseTo(cm[0][1] / (cm[0][0] + cm[0][1]), 12);
    expect(evaluateConfusion(['a', 'b'], cm).errorRate).toBeCloseTo(1 - sk.acc, 12);
    expect(forest.importances.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('gives the same forest whatever the order of the rows', () => {
    const n = set.rows;
    const perm = Uint32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) { const j = (i * 7919 + 13) % (i + 1); [perm[i], perm[j]] = [perm[j], perm[i]]; }
    const shuffled = {
      features: set.features.map((c) => Int32Array.from(perm, (p) => c[p])), labels: Uint8Array.from(perm, (p) => set.labels[p]),
      keys: Uint32Array.from(perm, (p) => set.keys[p]), numClasses: 2,
    };
    const a = trainForest({ features: set.features, labels: set.labels, keys: set.keys, numClasses: 2, rows: splitRows(set.keys, 1, 0.7).train }, forestDefaults());
    const b = trainForest({ ...shuffled, rows: splitRows(shuffled.keys, 1, 0.7).train }, forestDefaults());
    expect(forestJson(b)).toBe(forestJson(a));
  });
});

describe('smartcar ml classify', () => {
  it('trains, saves the model, and predicts the seed\'s example car as the scoring rule classifies it', () => {
    const t = cli('ml', 'classify', 'train', '--day', DAY, '--data', dataDir, '--json', '--plots', path.join(dataDir, 'plots'));
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
    const r = JSON.parse(t.stdout);
    expect(r.evaluation.accuracy).toBeGreaterThan(0.8);
    expect(fs.readFileSync(path.join(dataDir, 'plots', 'classify-confusion.svg'), 'utf8')).toContain('<svg');
    const p = cli('ml', 'classify', 'predict', ...SEED_CAR, '--data', dataDir, '--json');
    expect(p.status).toBe(0);
    expect(JSON.parse(p.stdout).class).toBe(ruleClassOfArgs(SEED_CAR));
    expect(ruleClassOfArgs(SEED_CAR)).toBe('비정상'); // 5.7 < 6
  }, 240_000);

  it('the daily status-score workflow scores every car of the day with the saved model', async () => {
    const run = await runWorkflow(loadWorkflows([SHIPPED_WORKFLOWS]).get('status-score')!, DAY, { dataDir });
    expect(run.error).toBeUndefined();
    expect(run.steps[1].rows).toBe(9);
    const cat = await openCatalog({ dataDir });
    const r = (await cat.query(`select count(*), sum(records), sum(rule_abnormal_records) from smartcar_status_score where biz_date = '${DAY}'`)).rows[0];
    await cat.close();
    expect(r.map(Number)).toEqual([9, set.rows, set.labels.reduce((a, b) => a + b, 0)]);
  });

  it('names the argument when a car has the wrong count or type of values', async () => {
    await expect(predictCommand(SEED_CAR.slice(1), { data: dataDir })).rejects.toThrow(/14 values .* got 13/);
    await expect(predictCommand(SEED_CAR.map((v, i) => (i === 2 ? 'Z' : v)), { data: dataDir })).rejects.toThrow("argument 3 (car_model) must be one of A B C D E F G H, got 'Z'");
    await expect(predictCommand(SEED_CAR.map((v, i) => (i === 0 ? 'big' : v)), { data: dataDir })).rejects.toThrow("argument 1 (car_capacity) must be an integer, got 'big'");
    const file = path.join(dataDir, 'cars.txt');
    fs.writeFileSync(file, `${SEED_CAR.join(' ')}\n2000 2000 A 80 80 80 80 1 1 1 1 A X 50\n`);
    await expect(predictCommand([], { data: dataDir, file })).rejects.toThrow(`${file}:2: argument 13 (break) must be one of A B C, got 'X'`);
  });

  it('reports a corrupt model file and refuses a model of another feature mapping, loading neither', async () => {
    const model = path.join(dataDir, 'models', 'status-forest.model');
    const good = fs.readFileSync(model);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10] ^= 1;
    const bad = path.join(dataDir, 'flipped.model');
    fs.writeFileSync(bad, flipped);
    await expect(predictCommand(SEED_CAR, { data: dataDir, model: bad })).rejects.toThrow(/corrupt: checksum mismatch/);
    fs.writeFileSync(bad, good.subarray(0, good.length - 100));
    await expect(predictCommand(SEED_CAR, { data: dataDir, model: bad })).rejects.toThrow(/corrupt: its body has .* bytes/);
    const body = JSON.parse(good.subarray(good.indexOf(10) + 1).toString('utf8'));
    body.features[11].values = ['B', 'A', 'C'];
    writeModelFile(bad, 'random-forest', body);
    await expect(predictCommand(SEED_CAR, { data: dataDir, model: bad })).rejects.toThrow(/trained with another feature mapping .*engine\{B,A,C\}.*retrain/);
    body.features[11].values = ['A', 'B', 'C'];
    body.trees[0].left[0] = 0; // a cycle
    writeModelFile(bad, 'random-forest', body);
    await expect(predictCommand(SEED_CAR, { data: dataDir, model: bad })).rejects.toThrow(/not a valid random-forest model.*child index/s);
  });

  it('an empty status mart day names the workflow to run, exit 2, no stack', () => {
    const r = cli('ml', 'classify', 'train', '--day', '20240106', '--data', dataDir);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('smartcar workflow run status --day 20240106');
    expect(r.stderr).not.toContain('    at ');
  });
});
