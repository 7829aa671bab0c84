/**
 * The trained incident model as ONE versioned file: the network, the scaler fitted on the training part
 * and the feature order travel together, so no consumer can apply the model to unscaled features.
 *
 * `<data>/models/incident-dnn/v<N>.json` (N = 1, 2, …; written to a temp file, fsynced, renamed):
 *   {
 *     "format": "smartcar-incident-dnn", "formatVersion": 1,
 *     "version": N, "createdAt": ISO-8601,
 *     "features": ["wea", …, "steeAng"],      the input order
 *     "classes": ["0", "1", "2"],             softmax output order
 *     "scaler": { "mean": [10], "scale": [10] },  x' = (x − mean) / scale
 *     "layers": [ {"type":"dense","units":10,"activation":"relu"}, …, {"type":"dropout","rate":0.25}, … ],
 *     "weights": [ {"kernel": [in·out, row-major in × out], "bias": [out]} per dense layer ],
 *     "training": { seed, epochs, batchSize, testShare, rows, optimizer },
 *     "metrics": { loss, accuracy, auc, … } of the test part
 *   }
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../../core/index.ts';
import { Network, type LayerSpec } from './network.ts';
import type { Scaler } from './incidents.ts';

export const FORMAT = 'smartcar-incident-dnn';

const layerSchema = z.union([
  z.object({ type: z.literal('dense'), units: z.number().int().positive(), activation: z.enum(['relu', 'softmax', 'linear']) }),
  z.object({ type: z.literal('dropout'), rate: z.number().min(0).lt(1) }),
]);

export const artifactSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.literal(1),
  version: z.number().int().positive(),
  createdAt: z.string(),
  features: z.array(z.string()).min(1),
  classes: z.array(z.string()).min(2),
  scaler: z.object({ mean: z.array(z.number()), scale: z.array(z.number().positive()) }),
  layers: z.array(layerSchema).min(1),
  weights: z.array(z.object({ kernel: z.array(z.number()), bias: z.array(z.number()) })),
  training: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
});

export type Artifact = z.infer<typeof artifactSchema>;

/** A loaded model: immutable once built, so swapping the reference swaps all of it at once. */
export interface IncidentModel {
  version: number;
  file: string;
  features: readonly string[];
  classes: readonly string[];
  scaler: Scaler;
  network: Network;
  artifact: Artifact;
}

export function modelDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'models', 'incident-dnn');
}

/** The highest v<N>.json in a directory, or undefined. */
export function latestArtifact(dir: string): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const versions = fs.readdirSync(dir).map((f) => /^v(\d+)\.json$/.exec(f)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1]));
  if (versions.length === 0) return undefined;
  return path.join(dir, `v${Math.max(...versions)}.json`);
}

/** A file, or a directory holding v<N>.json files (the newest is taken). */
export function resolveModelPath(p: string): string {
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
    const f = latestArtifact(p);
    if (!f) throw new UserError(`no model in ${p}: train one with \`smartcar ml dnn train\``);
    return f;
  }
  if (!fs.existsSync(p)) throw new UserError(`${p} does not exist: train a model with \`smartcar ml dnn train\` or name one with --model`);
  return p;
}

export function loadModel(file: string): IncidentModel {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not a model file (${(err as Error).message})`);
  }
  const r = artifactSchema.safeParse(raw);
  if (!r.success) throw new UserError(`${file}: not a ${FORMAT} v1 artifact: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const a = r.data;
  const k = a.features.length;
  if (a.scaler.mean.length !== k || a.scaler.scale.length !== k) throw new UserError(`${file}: the scaler has ${a.scaler.mean.length} entries for ${k} features`);
  let network: Network;
  try {
    network = new Network(k, a.layers as LayerSpec[], a.weights.map((w) => ({ kernel: Float64Array.from(w.kernel), bias: Float64Array.from(w.bias) })));
  } catch (err) {
    throw new UserError(`${file}: ${(err as Error).message}`);
  }
  if (network.outputs !== a.classes.length) throw new UserError(`${file}: ${network.outputs} outputs for ${a.classes.length} classes`);
  return { version: a.version, file, features: a.features, classes: a.classes, scaler: a.scaler, network, artifact: a };
}

/** Writes the next version under dir; returns its path. */
export function saveArtifact(dir: string, a: Omit<Artifact, 'version' | 'format' | 'formatVersion' | 'createdAt'>): { file: string; version: number } {
  fs.mkdirSync(dir, { recursive: true });
  const latest = latestArtifact(dir);
  const version = latest ? Number(/v(\d+)\.json$/.exec(latest)![1]) + 1 : 1;
  const full: Artifact = { format: FORMAT, formatVersion: 1, version, createdAt: new Date().toISOString(), ...a };
  const file = path.join(dir, `v${version}.json`);
  const tmp = path.join(dir, `.v${version}.json.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(full));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return { file, version };
}

/** Class probabilities for rows × features (raw values: the scaler is applied here, always). */
export function predictRaw(m: IncidentModel, x: Float64Array, rows: number): Float64Array {
  const k = m.features.length;
  const scaled = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i % k;
    scaled[i] = (x[i] - m.scaler.mean[j]) / m.scaler.scale[j];
  }
  return m.network.predict(scaled, rows);
}
