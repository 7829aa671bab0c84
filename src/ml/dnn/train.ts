/**
 * `smartcar ml dnn train`: the original's network and training (its TensorFlow incident model), written out as one artifact.
 *
 *   80/20 seeded split → StandardScaler fitted on the training part → one-hot labels
 *   Dense 10 relu (10 inputs) → Dense 20 relu → Dropout 0.25 → Dense 10 relu → Dense 3 softmax
 *   Adam, categorical cross-entropy, batch 2000, 50 epochs, shuffled each epoch, the test part as validation
 *
 * One seed drives the split, the initial weights, the shuffles and the dropout masks (separate streams),
 * so a run is reproducible bit for bit.
 */
import { rngFor } from '../../sim/index.ts';
import { writeSvg } from '../plot.ts';
import { Adam, Network, type Kernels, type LayerSpec } from './network.ts';
import { applyScaler, CLASSES, FEATURES, fitScaler, oneHot, permutation, split, type IncidentSet } from './incidents.ts';
import { saveArtifact, type Artifact } from './artifact.ts';
import { score, type Scores } from './metrics.ts';

export const SEED_LAYERS: LayerSpec[] = [
  { type: 'dense', units: 10, activation: 'relu' },
  { type: 'dense', units: 20, activation: 'relu' },
  { type: 'dropout', rate: 0.25 },
  { type: 'dense', units: 10, activation: 'relu' },
  { type: 'dense', units: 3, activation: 'softmax' },
];

export interface TrainOptions {
  seed: number;
  epochs: number;
  batchSize: number;
  testShare: number;
  signal?: AbortSignal;
  /** The dense layers' arithmetic (default: SIMD where the runtime has it); both give the same bits. */
  kernels?: Kernels;
  onEpoch?: (e: EpochStats) => void;
}

export interface EpochStats {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  ms: number;
}

export interface TrainResult {
  network: Network;
  scaler: { mean: number[]; scale: number[] };
  history: EpochStats[];
  test: Scores;
  curves: ReturnType<typeof score>['curves'];
  trainRows: number;
  testRows: number;
  stopped: boolean;
}

/** Yields to the event loop between epochs, so Ctrl-C (o.signal) is seen within one epoch. */
export async function trainIncidents(data: IncidentSet, o: TrainOptions): Promise<TrainResult> {
  const k = FEATURES.length;
  const nc = CLASSES.length;
  const { train, test } = split(data, o.testShare, rngFor(o.seed, 1));
  const scaler = fitScaler(train.x, train.rows, k);
  const xTrain = applyScaler(scaler, train.x);
  const yTrain = oneHot(train.y, nc);
  const xTest = applyScaler(scaler, test.x);
  const net = Network.init(k, SEED_LAYERS, rngFor(o.seed, 2));
  const shuffleRng = rngFor(o.seed, 3);
  const dropoutRng = rngFor(o.seed, 4);
  const adam = new Adam(net.weights());
  const ws = net.workspace(o.kernels);
  const bx = new Float64Array(o.batchSize * k);
  const by = new Float64Array(o.batchSize * nc);
  const history: EpochStats[] = [];
  let stopped = false;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    if (o.signal?.aborted) {
      stopped = true;
      break;
    }
    const t0 = performance.now();
    const order = permutation(train.rows, shuffleRng);
    let lossSum = 0;
    let right = 0;
    for (let start = 0; start < train.rows; start += o.batchSize) {
      const rows = Math.min(o.batchSize, train.rows - start);
      for (let r = 0; r < rows; r++) {
        const id = order[start + r];
        for (let j = 0; j < k; j++) bx[r * k + j] = xTrain[id * k + j];
        for (let j = 0; j < nc; j++) by[r * nc + j] = yTrain[id * nc + j];
      }
      const xb = rows === o.batchSize ? bx : bx.subarray(0, rows * k);
      const yb = rows === o.batchSize ? by : by.subarray(0, rows * nc);
      const p = net.forwardTrain(xb, rows, dropoutRng, ws);
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let j = 1; j < nc; j++) if (p[r * nc + j] > p[r * nc + best]) best = j;
        if (yb[r * nc + best] === 1) right++;
      }
      lossSum += net.backward(yb, rows, ws) * rows;
      adam.step(ws.grads);
    }
    const val = lossAccuracy(net.predict(xTest, test.rows, o.kernels), test.y, nc);
    const e: EpochStats = { epoch, epochs: o.epochs, loss: lossSum / train.rows, accuracy: right / train.rows, valLoss: val.loss, valAccuracy: val.accuracy, ms: performance.now() - t0 };
    history.push(e);
    o.onEpoch?.(e);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const final = score(net.predict(xTest, test.rows, o.kernels), test.y, CLASSES);
  return { network: net, scaler, history, test: final.scores, curves: final.curves, trainRows: train.rows, testRows: test.rows, stopped };
}

function lossAccuracy(p: Float64Array, y: Uint8Array, nc: number): { loss: number; accuracy: number } {
  let loss = 0;
  let right = 0;
  for (let r = 0; r < y.length; r++) {
    let best = 0;
    for (let j = 1; j < nc; j++) if (p[r * nc + j] > p[r * nc + best]) best = j;
    if (best === y[r]) right++;
    loss -= Math.log(Math.min(1 - 1e-7, Math.max(1e-7, p[r * nc + y[r]])));
  }
  return { loss: loss / y.length, accuracy: right / y.length };
}

/** The artifact body of a training run. */
export function artifactOf(r: TrainResult, o: TrainOptions, source: string): Omit<Artifact, 'version' | 'format' | 'formatVersion' | 'createdAt'> {
  return {
    features: [...FEATURES],
    classes: [...CLASSES],
    scaler: r.scaler,
    layers: SEED_LAYERS,
    weights: r.network.weights().map((w) => ({ kernel: Array.from(w.kernel), bias: Array.from(w.bias) })),
    training: { source, seed: o.seed, epochs: r.history.length, batchSize: o.batchSize, testShare: o.testShare, trainRows: r.trainRows, testRows: r.testRows, optimizer: 'adam(lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-7)', loss: 'categorical_crossentropy' },
    metrics: { loss: r.test.loss, accuracy: r.test.accuracy, microAuc: r.test.microAuc, confusion: r.test.confusion, perClass: r.test.perClass, history: r.history },
  };
}

export function saveTraining(dir: string, r: TrainResult, o: TrainOptions, source: string): { file: string; version: number } {
  return saveArtifact(dir, artifactOf(r, o, source));
}

/** Loss and accuracy curves (train, validation) and the ROC curves. */
export function drawTraining(dir: string, r: TrainResult): string[] {
  const epochs = r.history.map((h) => h.epoch);
  const line = (name: string, data: number[]) => ({ type: 'line' as const, name, data, showSymbol: false });
  const out = [
    writeSvg(dir, 'loss', {
      title: { text: 'Loss per epoch' }, legend: { top: 30 }, xAxis: { type: 'category', data: epochs, name: 'epoch' }, yAxis: { type: 'value', name: 'categorical cross-entropy' },
      series: [line('train', r.history.map((h) => h.loss)), line('validation', r.history.map((h) => h.valLoss))],
    }),
    writeSvg(dir, 'accuracy', {
      title: { text: 'Accuracy per epoch' }, legend: { top: 30 }, xAxis: { type: 'category', data: epochs, name: 'epoch' }, yAxis: { type: 'value', name: 'accuracy', max: 1 },
      series: [line('train', r.history.map((h) => h.accuracy)), line('validation', r.history.map((h) => h.valAccuracy))],
    }),
  ];
  const curve = (name: string, c: { fpr: number[]; tpr: number[] }) => ({ type: 'line' as const, name, showSymbol: false, data: c.fpr.map((f, i) => [f, c.tpr[i]]) });
  out.push(writeSvg(dir, 'roc', {
    title: { text: `ROC (micro-average AUC ${r.curves.micro.auc.toFixed(4)})` }, legend: { top: 30 },
    xAxis: { type: 'value', name: 'false positive rate', min: 0, max: 1 }, yAxis: { type: 'value', name: 'true positive rate', min: 0, max: 1 },
    series: [
      curve(`micro-average (AUC ${r.curves.micro.auc.toFixed(4)})`, r.curves.micro),
      ...r.curves.perClass.map((c, i) => curve(`class ${CLASSES[i]} (AUC ${c.auc.toFixed(4)})`, c)),
      { type: 'line', name: 'chance', data: [[0, 0], [1, 1]], showSymbol: false, lineStyle: { type: 'dashed' } },
    ],
  }));
  return out;
}

export function plotsDirFor(artifactFile: string): string {
  return artifactFile.replace(/\.json$/, '') + '-plots';
}

