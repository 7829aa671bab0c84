/** The actions of `smartcar ml dnn train | evaluate | predict`. */
import cliProgress from 'cli-progress';
import { UserError, onShutdown } from '../../core/index.ts';
import { readIncidents, FEATURES, CLASSES, type IncidentSet } from './incidents.ts';
import { drawTraining, plotsDirFor, saveTraining, trainIncidents, type EpochStats } from './train.ts';
import { latestArtifact, loadModel, modelDir, predictRaw, resolveModelPath } from './artifact.ts';
import { formatScores, score } from './metrics.ts';

export const INCIDENT_TABLE = 'smartcar_driving_incident_info';

async function tableSet(table: string, dataDir: string): Promise<IncidentSet> {
  const { openCatalog } = await import('../../sql/index.ts');
  const cat = await openCatalog({ dataDir, threads: 1 });
  try {
    const tables = (await cat.tables()).map((t) => t.toLowerCase());
    if (!tables.includes(table.toLowerCase()))
      throw new UserError(`no table ${table} in the catalog under ${dataDir}: load one with \`smartcar load incidents FILE\`, or train from a file with --input FILE`);
    const r = await cat.query(`select ${[...FEATURES, 'acciPos'].join(', ')} from ${table}`);
    const k = FEATURES.length;
    const x = new Float64Array(r.rows.length * k);
    const y = new Uint8Array(r.rows.length);
    r.rows.forEach((row, i) => {
      for (let j = 0; j < k; j++) {
        const v = Number(row[j]);
        if (!(v >= 0 && v <= 2)) throw new UserError(`${table} row ${i + 1}: ${FEATURES[j]} "${String(row[j])}" is not a number in 0–2`);
        x[i * k + j] = v;
      }
      const c = Number(row[k]);
      if (!(c === 0 || c === 1 || c === 2)) throw new UserError(`${table} row ${i + 1}: acciPos "${String(row[k])}" is not 0, 1 or 2`);
      y[i] = c;
    });
    if (r.rows.length === 0) throw new UserError(`${table} has no rows`);
    return { x, y, rows: r.rows.length };
  } finally {
    await cat.close();
  }
}

export interface TrainCliOptions {
  input?: string;
  table: string;
  dataDir: string;
  out?: string;
  seed: number;
  epochs: number;
  batchSize: number;
  testShare: number;
  plots?: string;
}

export async function runTrain(o: TrainCliOptions): Promise<void> {
  const data = o.input ? readIncidents(o.input) : await tableSet(o.table, o.dataDir);
  const source = o.input ?? o.table;
  process.stderr.write(`training on ${data.rows.toLocaleString('en-US')} rows of ${source} (seed ${o.seed}, ${o.epochs} epochs, batch ${o.batchSize})\n`);
  const ac = new AbortController();
  const bar = epochBar(o.epochs);
  const running = trainIncidents(data, { seed: o.seed, epochs: o.epochs, batchSize: o.batchSize, testShare: o.testShare, signal: ac.signal, onEpoch: (e) => bar.epoch(e) });
  // Ctrl-C: finish the current epoch, write nothing, exit 0.
  onShutdown(async () => {
    ac.abort();
    const r = await running;
    bar.stop();
    process.stderr.write(`\nstopped after ${r.history.length} of ${o.epochs} epochs: no model written\n`);
  });
  const r = await running;
  bar.stop();
  if (r.stopped) return;
  const dir = o.out ?? modelDir(o.dataDir);
  const saved = saveTraining(dir, r, { seed: o.seed, epochs: o.epochs, batchSize: o.batchSize, testShare: o.testShare }, source);
  const plots = drawTraining(o.plots ?? plotsDirFor(saved.file), r);
  process.stdout.write(`test part (${r.testRows.toLocaleString('en-US')} rows):\n${formatScores(r.test)}\n`);
  process.stdout.write(`model v${saved.version}: ${saved.file}\nplots: ${plots.join(', ')}\n`);
}

/** A bar on a TTY (cli-progress), else one line per epoch on stderr. */
function epochBar(total: number): { epoch(e: EpochStats): void; stop(): void } {
  const line = (e: EpochStats) =>
    `epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}  accuracy ${e.accuracy.toFixed(4)}  val_loss ${e.valLoss.toFixed(4)}  val_accuracy ${e.valAccuracy.toFixed(4)}  ${(e.ms / 1000).toFixed(2)} s`;
  if (!process.stderr.isTTY) return { epoch: (e) => process.stderr.write(line(e) + '\n'), stop() {} };
  let bar: { update(n: number, p: object): void; stop(): void } | undefined;
  return {
    epoch: (e) => {
      bar ??= makeBar(total);
      bar.update(e.epoch, { stats: line(e).replace(/^epoch \S+\s+/, '') });
    },
    stop: () => bar?.stop(),
  };
}

function makeBar(total: number) {
  const b = new cliProgress.SingleBar({ format: 'epoch {value}/{total} [{bar}] {stats}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  b.start(total, 0, { stats: '' });
  return b;
}

function modelFile(model: string | undefined, dataDir: string): string {
  if (model) return resolveModelPath(model);
  const f = latestArtifact(modelDir(dataDir));
  if (!f) throw new UserError(`no model under ${modelDir(dataDir)}: train one with \`smartcar ml dnn train\`, or name one with --model`);
  return f;
}

export function runEvaluate(file: string, o: { model?: string; dataDir: string; json?: boolean }): void {
  const m = loadModel(modelFile(o.model, o.dataDir));
  const data = readIncidents(file);
  const probs = predictRaw(m, data.x, data.rows);
  const { scores } = score(probs, data.y, CLASSES);
  if (o.json) process.stdout.write(JSON.stringify({ model: m.file, version: m.version, ...scores }) + '\n');
  else process.stdout.write(`model v${m.version} (${m.file}) on ${file}:\n${formatScores(scores)}`);
}

/** `predict`: features as --wea 1 … flags, key=value arguments, or a file of rows. */
export function runPredict(o: { model?: string; dataDir: string; values: Record<string, string>; input?: string; json?: boolean }): void {
  const m = loadModel(modelFile(o.model, o.dataDir));
  let x: Float64Array;
  let rows: number;
  if (o.input) {
    const d = readIncidents(o.input, { labelled: false });
    x = d.x;
    rows = d.rows;
  } else {
    const missing = m.features.filter((f) => o.values[f] === undefined);
    if (missing.length) throw new UserError(`missing feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: give all ten, e.g. wea=0 temp=1 …, or --input FILE`);
    const unknown = Object.keys(o.values).filter((k) => !m.features.includes(k));
    if (unknown.length) throw new UserError(`unknown feature ${unknown.join(', ')} (features: ${m.features.join(', ')})`);
    x = Float64Array.from(m.features, (f) => {
      const v = Number(o.values[f]);
      if (o.values[f].trim() === '' || !(v >= 0 && v <= 2)) throw new UserError(`${f} "${o.values[f]}" is not a number in 0–2`);
      return v;
    });
    rows = 1;
  }
  const p = predictRaw(m, x, rows);
  const k = m.classes.length;
  for (let r = 0; r < rows; r++) {
    const probs = Array.from(p.subarray(r * k, r * k + k));
    const best = probs.indexOf(Math.max(...probs));
    if (o.json) process.stdout.write(JSON.stringify({ prediction: m.classes[best], probabilities: Object.fromEntries(m.classes.map((c, i) => [c, probs[i]])), model_version: m.version }) + '\n');
    else process.stdout.write(`${m.classes[best]}\t${probs.map((v) => v.toFixed(4)).join('\t')}\n`);
  }
}

