/**
 * The saved status classifier: a model file (../model-file.ts) of kind `random-forest` whose body is
 *
 *   { task: "status", created, features: [{name, kind, values?}…], classes: [..], config: {…forest options},
 *     split: {seed, trainFraction}, trainedOn: {days, rows, trainRows},
 *     trees: [{feature: [..], threshold: [..], left: [..], right: [..], prob: [..], weight: [..]}],
 *     importances: [..], evaluation?: {…} }
 *
 * A tree's arrays are parallel, in preorder; `feature` −1 marks a leaf; `prob` holds numClasses
 * values per node. The body is checked whole (shapes, child indices, feature indices) before a model
 * is built from it, and its feature mapping must be the one this version encodes.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { UserError } from '../../core/index.ts';
import { readModelFile, writeModelFile } from '../model-file.ts';
import type { Forest } from '../forest/forest.ts';
import { forestSchema } from '../forest/schema.ts';
import { STATUS_CLASSES, STATUS_FEATURES, type FeatureSpec } from './features.ts';

const featureSpec = z.object({ name: z.string(), kind: z.enum(['numeric', 'categorical']), values: z.array(z.string()).optional() }).strict();
const treeSchema = z.object({
  feature: z.array(z.number().int()), threshold: z.array(z.number()), left: z.array(z.number().int()),
  right: z.array(z.number().int()), prob: z.array(z.number().min(0).max(1)), weight: z.array(z.number().min(0)),
}).strict();

export const modelBodySchema = z.object({
  task: z.literal('status'),
  created: z.string(),
  features: z.array(featureSpec).min(1),
  classes: z.array(z.string()).min(2),
  config: forestSchema,
  split: z.object({ seed: z.number().int(), trainFraction: z.number().gt(0).lte(1) }),
  trainedOn: z.object({ days: z.array(z.string()), rows: z.number().int(), trainRows: z.number().int() }),
  trees: z.array(treeSchema).min(1),
  importances: z.array(z.number()),
  evaluation: z.unknown().optional(),
}).strict().superRefine((m, ctx) => {
  const F = m.features.length, K = m.classes.length;
  if (m.importances.length !== F) ctx.addIssue({ code: 'custom', path: ['importances'], message: `has ${m.importances.length} values for ${F} features` });
  m.trees.forEach((t, i) => {
    const n = t.feature.length;
    const bad = (what: string) => ctx.addIssue({ code: 'custom', path: ['trees', i], message: what });
    if ([t.threshold, t.left, t.right, t.weight].some((a) => a.length !== n) || t.prob.length !== n * K) return bad('arrays of different lengths');
    for (let j = 0; j < n; j++) {
      if (t.feature[j] >= F || t.feature[j] < -1) return bad(`node ${j}: feature ${t.feature[j]} out of range`);
      // Preorder: children come after their parent, so a walk always ends at a leaf.
      if (t.feature[j] >= 0 && !(t.left[j] > j && t.left[j] < n && t.right[j] > j && t.right[j] < n)) return bad(`node ${j}: child index out of range`);
    }
  });
});
export type ModelBody = z.output<typeof modelBodySchema>;

export interface StatusModel {
  body: ModelBody;
  forest: Forest;
}

export const MODEL_KIND = 'random-forest';

export function forestToJson(f: Forest): Pick<ModelBody, 'trees' | 'importances'> {
  return {
    trees: f.trees.map((t) => ({ feature: [...t.feature], threshold: [...t.threshold], left: [...t.left], right: [...t.right], prob: [...t.prob], weight: [...t.weight] })),
    importances: f.importances,
  };
}

export function saveModel(file: string, body: ModelBody): void {
  writeModelFile(file, MODEL_KIND, body);
}

function describeMapping(fs: FeatureSpec[]): string {
  return fs.map((f) => (f.kind === 'categorical' ? `${f.name}{${f.values!.join(',')}}` : f.name)).join(' ');
}

export function loadModel(file: string): StatusModel {
  const body = readModelFile(file, MODEL_KIND, modelBodySchema);
  if (!isDeepStrictEqual(body.features, STATUS_FEATURES) || !isDeepStrictEqual(body.classes, STATUS_CLASSES)) {
    throw new UserError(`${file} was trained with another feature mapping (${describeMapping(body.features)} → ${body.classes.join('/')}); `
      + `this smartcar encodes ${describeMapping(STATUS_FEATURES)} → ${STATUS_CLASSES.join('/')}: retrain it (smartcar ml classify train --day yyyyMMdd)`);
  }
  const forest: Forest = {
    numClasses: body.classes.length,
    numFeatures: body.features.length,
    importances: body.importances,
    trees: body.trees.map((t) => ({
      feature: Int32Array.from(t.feature), threshold: Float64Array.from(t.threshold), left: Int32Array.from(t.left),
      right: Int32Array.from(t.right), prob: Float64Array.from(t.prob), weight: Float64Array.from(t.weight),
    })),
  };
  return { body, forest };
}
