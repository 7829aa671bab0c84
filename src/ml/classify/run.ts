/**
 * `smartcar ml classify train | evaluate | predict | score`: the random-forest status classifier of
 * the analysis stage (labels from the scoring rule in features.ts) over the status mart, read through the SQL catalog.
 *
 * The split: a row trains when unit(hash(key, splitSeed)) < trainFraction, its key being a hash of
 * (car_number, reg_date) — so the split, like the forest, does not depend on row order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError, progressBar } from '../../core/index.ts';
import type { Catalog, Int32Result } from '../../sql/index.ts';
import { daysOf, dataDirOf, mb, modelsDir, seconds, withCatalog } from '../common.ts';
import { forestSchema } from '../forest/schema.ts';
import { evaluateConfusion, formatEvaluation, type Evaluation } from '../metrics.ts';
import { drawFigure } from '../plot.ts';
import { confusionHeatmap, importanceBars } from '../plots.ts';
import { hash32, unit } from '../random.ts';
import { writeResultTable } from '../tables.ts';
import { predictColumns, predictProba, argmax, trainForest, type Forest } from '../forest/forest.ts';
import { parseOptions } from '../options.ts';
import { CLASS_NAMES, STATUS_CLASSES, STATUS_FEATURES, STATUS_TABLE, carNumberOf, dayCountSql, labelledSql, parseCar } from './features.ts';
import { forestToJson, loadModel, saveModel, type ModelBody } from './model.ts';
import { evaluateSchema, predictSchema, scoreSchema, trainSchema } from './schema.ts';

export const defaultModelFile = (dataDir: string) => path.join(modelsDir(dataDir), 'status-forest.model');

export interface LabelledSet {
  days: string[];
  rows: number;
  features: Int32Array[];
  labels: Uint8Array;
  keys: Uint32Array;
  cars: Int32Array;
}

/** The labelled rows of `days`, or a clear error naming the workflow that builds them. */
export async function readLabelled(cat: Catalog, days: string[]): Promise<LabelledSet> {
  const tables = await cat.tables();
  const total = tables.includes(STATUS_TABLE) ? Number((await cat.query(dayCountSql(days))).rows[0][0]) : 0;
  if (total === 0) {
    const d = days.length === 1 ? `--day ${days[0]}` : `--from ${days[0]} --to ${days.at(-1)}`;
    throw new UserError(`the status mart (${STATUS_TABLE}) has no rows for ${days.length === 1 ? `biz_date=${days[0]}` : `biz_date ${days[0]}..${days.at(-1)}`}: build it first (smartcar workflow ${days.length === 1 ? 'run' : 'backfill'} status ${d})`);
  }
  const r: Int32Result = await cat.int32Columns(labelledSql(days));
  const F = STATUS_FEATURES.length;
  return {
    days, rows: r.rows,
    features: r.data.slice(0, F),
    labels: Uint8Array.from(r.data[F]),
    keys: new Uint32Array(r.data[F + 1].buffer),
    cars: r.data[F + 2],
  };
}

export function splitRows(keys: Uint32Array, seed: number, trainFraction: number): { train: Uint32Array; test: Uint32Array } {
  let nTrain = 0;
  const side = new Uint8Array(keys.length);
  for (let i = 0; i < keys.length; i++) if (unit(hash32(keys[i], seed, 0x5917)) < trainFraction) { side[i] = 1; nTrain++; }
  const train = new Uint32Array(nTrain), test = new Uint32Array(keys.length - nTrain);
  for (let i = 0, a = 0, b = 0; i < keys.length; i++) if (side[i]) train[a++] = i; else test[b++] = i;
  return { train, test };
}

export function evaluateForest(forest: Forest, set: LabelledSet, rows: Uint32Array): Evaluation {
  const K = forest.numClasses;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const { classes } = predictColumns(forest, set.features, rows);
  for (let i = 0; i < rows.length; i++) confusion[set.labels[rows[i]]][classes[i]]++;
  return evaluateConfusion(STATUS_CLASSES, confusion);
}

function importanceText(names: string[], imp: number[]): string {
  return 'feature importances\n' + names.map((n, i) => [n, imp[i]] as const).sort((a, b) => b[1] - a[1])
    .map(([n, v]) => `  ${n.padEnd(14)} ${v.toFixed(4)}  ${'#'.repeat(Math.round(v * 50))}`).join('\n') + '\n';
}

/** The confusion matrix and the importances, kept for the console and written as SVG into `dir` when given. */
function writePlots(dataDir: string, dir: string | undefined, e: Evaluation, importances: number[]): string[] {
  return [
    drawFigure(dataDir, 'classify', 'classify-confusion', confusionHeatmap(CLASS_NAMES, e.confusion), dir),
    drawFigure(dataDir, 'classify', 'classify-importances', importanceBars(STATUS_FEATURES.map((f) => f.name), importances), dir),
  ].filter((f): f is string => f !== undefined);
}

const out = (s: string) => process.stdout.write(s);

export interface TrainResult {
  model: string;
  rows: number;
  trainRows: number;
  testRows: number;
  loadMs: number;
  trainMs: number;
  memory: { featureMatrixBytes: number; arrayBuffersBytes: number; rssBytes: number };
  evaluation: Evaluation;
  importances: Record<string, number>;
  plots: string[];
}

export async function trainCommand(raw: Record<string, unknown>): Promise<TrainResult> {
  const o = parseOptions(trainSchema, raw);
  const dataDir = await dataDirOf(o);
  const days = daysOf(o);
  const file = o.model ?? defaultModelFile(dataDir);
  return withCatalog(dataDir, async (cat) => {
    const t0 = performance.now();
    const set = await readLabelled(cat, days);
    const loadMs = performance.now() - t0;
    const { train, test } = splitRows(set.keys, o.splitSeed, o.trainFraction);
    if (train.length === 0) throw new UserError(`no training rows: --train-fraction ${o.trainFraction} leaves none of ${set.rows}`);
    const bar = progressBar('training', o.numTrees, 'trees');
    const t1 = performance.now();
    const forest = trainForest({ features: set.features, labels: set.labels, numClasses: 2, keys: set.keys, rows: train }, o, (d) => bar.update(d));
    const trainMs = performance.now() - t1;
    bar.stop();
    const mem = process.memoryUsage();
    const evaluation = evaluateForest(forest, set, test.length ? test : train);
    const config = forestSchema.parse(Object.fromEntries(Object.keys(forestSchema.shape).map((k) => [k, (o as Record<string, unknown>)[k]])));
    const body: ModelBody = {
      task: 'status', created: new Date().toISOString(), features: STATUS_FEATURES, classes: STATUS_CLASSES,
      config, split: { seed: o.splitSeed, trainFraction: o.trainFraction },
      trainedOn: { days, rows: set.rows, trainRows: train.length }, ...forestToJson(forest), evaluation,
    };
    saveModel(file, body);
    const plots = writePlots(dataDir, o.plots, evaluation, forest.importances);
    const result: TrainResult = {
      model: file, rows: set.rows, trainRows: train.length, testRows: test.length, loadMs, trainMs,
      memory: { featureMatrixBytes: set.rows * STATUS_FEATURES.length * 4, arrayBuffersBytes: mem.arrayBuffers, rssBytes: mem.rss },
      evaluation, importances: Object.fromEntries(STATUS_FEATURES.map((f, i) => [f.name, forest.importances[i]])), plots,
    };
    if (o.json) out(JSON.stringify(result) + '\n');
    else {
      out(`trained ${o.numTrees} tree(s), depth ≤ ${o.maxDepth}, on ${train.length} of ${set.rows} rows (${days.join(', ')}) in ${seconds(trainMs)} (read in ${seconds(loadMs)}; feature matrix ${mb(result.memory.featureMatrixBytes)}, array buffers ${mb(mem.arrayBuffers)})\n`);
      out(`model saved to ${file}\n\nevaluation on the test part (${test.length} rows)\n`);
      out(formatEvaluation(evaluation, CLASS_NAMES) + '\n' + importanceText(STATUS_FEATURES.map((f) => f.name), forest.importances));
      for (const p of plots) out(`plot ${p}\n`);
    }
    return result;
  });
}

export async function evaluateCommand(raw: Record<string, unknown>): Promise<Evaluation> {
  const o = parseOptions(evaluateSchema, raw);
  const dataDir = await dataDirOf(o);
  const file = o.model ?? defaultModelFile(dataDir);
  const model = loadModel(file);
  const days = daysOf(o);
  return withCatalog(dataDir, async (cat) => {
    const set = await readLabelled(cat, days);
    // Days the model trained on are judged on their test part only.
    const trained = days.every((d) => model.body.trainedOn.days.includes(d));
    const rows = trained ? splitRows(set.keys, model.body.split.seed, model.body.split.trainFraction).test : Uint32Array.from({ length: set.rows }, (_, i) => i);
    const e = evaluateForest(model.forest, set, rows);
    const plots = writePlots(dataDir, o.plots, e, model.forest.importances);
    if (o.json) out(JSON.stringify({ model: file, days, part: trained ? 'test' : 'all', evaluation: e, importances: Object.fromEntries(STATUS_FEATURES.map((f, i) => [f.name, model.forest.importances[i]])), plots }) + '\n');
    else {
      out(`model ${file} on ${days.join(', ')} (${trained ? 'the test part of days it trained on' : 'all rows'}: ${rows.length} rows)\n`);
      out(formatEvaluation(e, CLASS_NAMES) + '\n' + importanceText(STATUS_FEATURES.map((f) => f.name), model.forest.importances));
      for (const p of plots) out(`plot ${p}\n`);
    }
    return e;
  });
}

export interface Prediction { car: string[]; class: string; probability: number }

export async function predictCommand(args: string[], raw: Record<string, unknown>): Promise<Prediction[]> {
  const o = parseOptions(predictSchema, raw);
  if (o.file && args.length) throw new UserError('predict takes one car on the command line or --file, not both');
  if (!o.file && args.length === 0) throw new UserError('predict needs a car (14 values, e.g. 2000 2000 A 80 80 80 80 1 1 1 1 A B 50) or --file FILE');
  const cars: { values: string[]; where: string }[] = [];
  if (o.file) {
    if (!fs.existsSync(o.file)) throw new UserError(`${o.file} does not exist`);
    fs.readFileSync(o.file, 'utf8').split('\n').forEach((line, i) => {
      const t = line.trim();
      if (t && !t.startsWith('#')) cars.push({ values: t.split(/[\s,|]+/), where: `${o.file}:${i + 1}` });
    });
    if (cars.length === 0) throw new UserError(`${o.file} has no cars`);
  } else cars.push({ values: args, where: 'predict' });
  const encoded = cars.map((c) => parseCar(c.values, c.where));
  const model = loadModel(o.model ?? defaultModelFile(await dataDirOf(o)));
  const preds = encoded.map((x, i) => {
    const p = predictProba(model.forest, (f) => x[f]);
    const c = argmax(p);
    return { car: cars[i].values, class: STATUS_CLASSES[c], probability: p[c] };
  });
  for (const p of preds) {
    if (o.json) out(JSON.stringify(p) + '\n');
    else out(`${cars.length > 1 ? p.car.join(' ') + '  →  ' : ''}${CLASS_NAMES[STATUS_CLASSES.indexOf(p.class)]}  probability ${p.probability.toFixed(4)}\n`);
  }
  return preds;
}

/** Scores every status record of a day with the saved model; one row per car in smartcar_status_score. */
export async function scoreDay(dataDir: string, day: string, modelFile?: string): Promise<{ cars: number; rows: number; abnormalCars: number; file: string }> {
  const model = loadModel(modelFile ?? defaultModelFile(dataDir));
  return withCatalog(dataDir, async (cat) => {
    const set = await readLabelled(cat, [day]);
    const { classes, prob } = predictColumns(model.forest, set.features);
    const perCar = new Map<number, { n: number; abnormal: number; labelled: number; pAbnormal: number }>();
    for (let i = 0; i < set.rows; i++) {
      const car = set.cars[i];
      let s = perCar.get(car);
      if (!s) perCar.set(car, (s = { n: 0, abnormal: 0, labelled: 0, pAbnormal: 0 }));
      s.n++;
      s.abnormal += classes[i];
      s.labelled += set.labels[i];
      s.pAbnormal += classes[i] === 1 ? prob[i] : 1 - prob[i];
    }
    const rows = [...perCar].sort((a, b) => a[0] - b[0]).map(([car, s]) => [
      carNumberOf(car), s.n, s.abnormal, s.abnormal / s.n, s.pAbnormal / s.n, s.abnormal * 2 > s.n ? STATUS_CLASSES[1] : STATUS_CLASSES[0], s.labelled,
    ]);
    const file = await writeResultTable(cat, dataDir, 'smartcar_status_score', [
      { name: 'car_number', type: 'VARCHAR' }, { name: 'records', type: 'INTEGER' }, { name: 'abnormal_records', type: 'INTEGER' },
      { name: 'abnormal_share', type: 'DOUBLE' }, { name: 'mean_abnormal_probability', type: 'DOUBLE' }, { name: 'status', type: 'VARCHAR' },
      { name: 'rule_abnormal_records', type: 'INTEGER' },
    ], rows, day);
    return { cars: rows.length, rows: set.rows, abnormalCars: rows.filter((r) => r[5] === STATUS_CLASSES[1]).length, file };
  });
}

export async function scoreCommand(raw: Record<string, unknown>): Promise<void> {
  const o = parseOptions(scoreSchema, raw);
  if (!o.day) throw new UserError('score needs --day yyyyMMdd');
  const r = await scoreDay(await dataDirOf(o), o.day, o.model);
  if (o.json) out(JSON.stringify(r) + '\n');
  else out(`scored ${r.rows} status records of ${r.cars} cars on ${o.day}: ${r.abnormalCars} car(s) mostly 비정상 (abnormal) → smartcar_status_score (${r.file})\n`);
}
