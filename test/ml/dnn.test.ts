/**
 * The incident network: reproducible seeded training, ≥ 0.99 validation accuracy, the saved artifact
 * reloaded predicts the same, `evaluate` on a seed-style 30-row file. Independent checks: TensorFlow.js
 * (its pure-JS backend) runs the same forward pass and Adam steps from the same weights; scikit-learn's
 * roc_auc_score recomputes the AUCs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIncidents, rngFor } from '../../src/sim/index.ts';
import { readIncidents, applyScaler } from '../../src/ml/dnn/incidents.ts';
import { SEED_LAYERS, saveTraining, trainIncidents } from '../../src/ml/dnn/train.ts';
import { loadModel, predictRaw } from '../../src/ml/dnn/artifact.ts';
import { Adam, DEFAULT_KERNELS, Network, type Kernels, type LayerSpec } from '../../src/ml/dnn/network.ts';
import { score } from '../../src/ml/dnn/metrics.ts';
import { oracle } from '../support/incident-model.ts';

let dir: string;
let file20k: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-dnn-'));
  file20k = await writeIncidents({ outDir: dir, seed: 21, rows: 20_000 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the incident network', () => {
  it('trains reproducibly: the same seed gives the same weights and history, another seed does not', async () => {
    const small = readIncidents(file20k);
    const o = { epochs: 2, batchSize: 1000, testShare: 0.2 };
    const a = await trainIncidents(small, { ...o, seed: 3 });
    const b = await trainIncidents(small, { ...o, seed: 3 });
    const c = await trainIncidents(small, { ...o, seed: 4 });
    expect(b.network.weights()).toEqual(a.network.weights());
    expect(b.history.map((h) => [h.loss, h.valAccuracy])).toEqual(a.history.map((h) => [h.loss, h.valAccuracy]));
    expect(c.network.weights()[0].kernel).not.toEqual(a.network.weights()[0].kernel);
  });

  it('trains to the same bits with the WebAssembly SIMD kernels as with the JavaScript ones (the default is SIMD)', async () => {
    expect(DEFAULT_KERNELS).toBe('simd');
    const small = readIncidents(file20k);
    const o = { seed: 5, epochs: 2, batchSize: 1000, testShare: 0.2 };
    const simd = await trainIncidents(small, { ...o, kernels: 'simd' });
    const js = await trainIncidents(small, { ...o, kernels: 'js' });
    expect(simd.network.weights()).toEqual(js.network.weights());
    expect(simd.history.map((h) => [h.loss, h.accuracy, h.valLoss, h.valAccuracy])).toEqual(js.history.map((h) => [h.loss, h.accuracy, h.valLoss, h.valAccuracy]));
    expect(simd.test).toEqual(js.test);
  });

  it('gives the same forward outputs, gradients and predictions from both kernels on odd widths, a linear layer and odd row counts', () => {
    // Odd widths take the kernels' scalar lane; a linear layer turns off the fused relu and the relu' mask.
    const layers: LayerSpec[] = [
      { type: 'dense', units: 5, activation: 'relu' },
      { type: 'dense', units: 7, activation: 'linear' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 4, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ];
    const run = (kernels: Kernels) => {
      const net = Network.init(3, layers, rngFor(7, 2));
      const data = rngFor(7, 5);
      const drop = rngFor(7, 4);
      const adam = new Adam(net.weights());
      const ws = net.workspace(kernels);
      const seen: number[][] = [];
      for (const rows of [37, 1, 130, 64]) {
        const x = Float64Array.from({ length: rows * 3 }, () => data() * 4 - 2);
        const y = new Float64Array(rows * 3);
        for (let r = 0; r < rows; r++) y[r * 3 + Math.floor(data() * 3)] = 1;
        seen.push(Array.from(net.forwardTrain(x, rows, drop, ws)));
        seen.push([net.backward(y, rows, ws)]);
        for (const g of ws.grads) seen.push(Array.from(g.kernel), Array.from(g.bias));
        adam.step(ws.grads);
      }
      const x = Float64Array.from({ length: 300 * 3 }, () => data() * 4 - 2);
      seen.push(Array.from(net.predict(x, 300, kernels)));
      return seen;
    };
    const simd = run('simd');
    const js = run('js');
    expect(simd.length).toBe(js.length);
    simd.forEach((v, i) => expect(v, `array ${i}`).toEqual(js[i]));
    // The gradients are not trivially zero (the check would pass vacuously).
    expect(simd[2].some((v) => v !== 0)).toBe(true);
  });

  it('reaches ≥ 0.99 validation accuracy with the seed network (20,000 rows, batch 500, 50 epochs), and the saved model predicts the same after reloading', async () => {
    const data = readIncidents(file20k);
    const o = { seed: 1, epochs: 50, batchSize: 500, testShare: 0.2 };
    const r = await trainIncidents(data, o);
    expect(r.history).toHaveLength(50);
    expect(r.history.at(-1)!.valAccuracy).toBeGreaterThanOrEqual(0.99);
    expect(r.test.accuracy).toBeGreaterThanOrEqual(0.99);
    const saved = saveTraining(path.join(dir, 'models'), r, o, file20k);
    expect(saved.version).toBe(1);
    const m = loadModel(saved.file);
    const mine = r.network.predict(applyScaler(r.scaler, data.x), data.rows);
    expect(predictRaw(m, data.x, data.rows)).toEqual(mine);
    // The file alone (oracle written from its format) gives the same classes.
    const f = oracle(saved.file);
    for (let i = 0; i < 200; i++) {
      const row = Object.fromEntries(m.features.map((k, j) => [k, data.x[i * 10 + j]]));
      const p = mine.subarray(i * 3, i * 3 + 3);
      expect(f(row).prediction).toBe(String(p.indexOf(Math.max(...p))));
    }
  }, 300_000);

  it('evaluates a seed-style 30-row labelled file and reports accuracy, and predicts from the ten features', async () => {
    const models = path.join(dir, 'models');
    const test30 = path.join(dir, 'CarDrivingIncidentInfo_Test.csv');
    const t = await writeIncidents({ outDir: path.join(dir, 't'), seed: 99, rows: 30 });
    fs.copyFileSync(t, test30);
    const bin = path.resolve('bin/smartcar.js');
    const ev = spawnSync(process.execPath, [bin, 'ml', 'dnn', 'evaluate', test30, '--model', models, '--json'], { encoding: 'utf8' });
    expect(ev.stderr).toBe('');
    const j = JSON.parse(ev.stdout);
    const model = loadModel(path.join(models, 'v1.json'));
    const data = readIncidents(test30);
    const want = score(predictRaw(model, data.x, data.rows), data.y, model.classes).scores;
    expect(j).toMatchObject({ version: 1, rows: 30, accuracy: want.accuracy, confusion: want.confusion });
    expect(j.accuracy).toBeGreaterThanOrEqual(0.9);
    const row = fs.readFileSync(test30, 'utf8').split('\n')[1].split(',');
    const args = model.features.map((f, i) => `${f}=${row[i]}`);
    const pr = spawnSync(process.execPath, [bin, 'ml', 'dnn', 'predict', ...args, '--model', models, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(pr.stdout).prediction).toBe(oracle(path.join(models, 'v1.json'))(Object.fromEntries(model.features.map((f, i) => [f, Number(row[i])]))).prediction);
    const bad = spawnSync(process.execPath, [bin, 'ml', 'dnn', 'predict', ...args.slice(1), '--model', models], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/missing feature wea/);
  }, 300_000);

  it('gives the AUCs scikit-learn computes for the same probabilities', () => {
    const model = loadModel(path.join(dir, 'models', 'v1.json'));
    const data = readIncidents(file20k);
    // A weaker scorer than the model (it is perfect on most rows) so the curve has something to measure.
    const p = predictRaw(model, data.x, 3000).map((v, i) => 0.5 * v + 0.5 * ((i * 7919) % 101) / 101);
    const { scores } = score(p, data.y.subarray(0, 3000), model.classes);
    const f = path.join(dir, 'probs.json');
    fs.writeFileSync(f, JSON.stringify({ p: Array.from(p), y: Array.from(data.y.subarray(0, 3000)) }));
    const out = execFileSync('/usr/bin/python3', ['-c', `
import json, numpy as np
from sklearn.metrics import roc_auc_score
d = json.load(open(${JSON.stringify(f)}))
p = np.array(d['p']).reshape(-1, 3); y = np.eye(3)[d['y']]
print(json.dumps([roc_auc_score(y.ravel(), p.ravel())] + [roc_auc_score(y[:, c], p[:, c]) for c in range(3)]))
`], { encoding: 'utf8' });
    const sk = JSON.parse(out) as number[];
    expect(scores.microAuc).toBeCloseTo(sk[0], 12);
    scores.perClass.forEach((c, i) => expect(c.auc).toBeCloseTo(sk[i + 1], 12));
  });

  it('computes the forward pass and Adam steps TensorFlow.js computes from the same weights', async () => {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    // Dropout is random by design; the check runs the seed's dense stack without it.
    const layers: LayerSpec[] = SEED_LAYERS.filter((l) => l.type === 'dense');
    const net = Network.init(10, layers, rngFor(9, 2));
    const model = tf.sequential();
    layers.forEach((l, i) => l.type === 'dense' && model.add(tf.layers.dense({ units: l.units, activation: l.activation, ...(i === 0 ? { inputShape: [10] } : {}) })));
    model.setWeights(net.weights().flatMap((w, i) => [tf.tensor2d(Array.from(w.kernel), [i === 0 ? 10 : (layers[i - 1] as { units: number }).units, (layers[i] as { units: number }).units]), tf.tensor1d(Array.from(w.bias))]));
    const data = readIncidents(file20k);
    const rows = 256;
    const x = applyScaler({ mean: new Array(10).fill(0.8), scale: new Array(10).fill(0.7) }, data.x.subarray(0, rows * 10));
    const y = new Float64Array(rows * 3);
    for (let r = 0; r < rows; r++) y[r * 3 + data.y[r]] = 1;
    const xs = tf.tensor2d(Array.from(x), [rows, 10]);
    const ys = tf.tensor2d(Array.from(y), [rows, 3]);
    const theirs = (model.predict(xs) as import('@tensorflow/tfjs').Tensor).dataSync();
    const ours = net.predict(x, rows);
    ours.forEach((v, i) => expect(Math.abs(v - theirs[i])).toBeLessThan(1e-5));
    model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
    const adam = new Adam(net.weights());
    const ws = net.workspace();
    for (let step = 0; step < 5; step++) {
      const theirLoss = (await model.trainOnBatch(xs, ys)) as number;
      net.forwardTrain(x, rows, Math.random, ws);
      const ourLoss = net.backward(y, rows, ws);
      adam.step(ws.grads);
      expect(Math.abs(ourLoss - theirLoss)).toBeLessThan(1e-5);
    }
    const tw = model.getWeights().map((t) => t.dataSync());
    net.weights().forEach((w, i) => {
      w.kernel.forEach((v, j) => expect(Math.abs(v - tw[2 * i][j])).toBeLessThan(1e-5));
      w.bias.forEach((v, j) => expect(Math.abs(v - tw[2 * i + 1][j])).toBeLessThan(1e-5));
    });
  }, 120_000);
});
