/** Options of `smartcar ml cluster` (Spark ML's KMeans as the seed ran it: k 200, seed 1), one source for flags and docs. */
import { z } from 'zod';
import { UserError } from '../../core/cli.ts';
import { commonSchema } from '../common.ts';

export const CLUSTER_FEATURES = ['capacity', 'year', 'model', 'sex', 'age', 'marriage', 'job', 'region'] as const;
export type ClusterFeature = (typeof CLUSTER_FEATURES)[number];

export const kmeansSchema = z.object({
  k: z.coerce.number().int().min(1).max(100_000).default(200).describe('clusters'),
  restarts: z.coerce.number().int().min(1).max(100).default(4).describe('runs from different k-means++ seedings; the lowest inertia wins'),
  maxIter: z.coerce.number().int().min(1).max(10_000).default(100).describe('Lloyd iterations per run at most'),
  tol: z.coerce.number().min(0).default(1e-6).describe('stop when no centre moves more than this (squared distance)'),
  seed: z.coerce.number().int().default(1).describe('seed of the k-means++ seedings'),
});
export type KMeansConfig = z.output<typeof kmeansSchema>;

export const clusterSchema = kmeansSchema.extend({
  features: z.string().default('capacity,year,model,sex,marriage').transform((s, ctx) => {
    const fs = s.split(',').map((x) => x.trim()).filter(Boolean);
    const bad = fs.filter((f) => !(CLUSTER_FEATURES as readonly string[]).includes(f));
    if (bad.length || fs.length === 0) {
      ctx.addIssue({ code: 'custom', message: `unknown feature(s) ${bad.join(', ') || '(none given)'}; choose from ${CLUSTER_FEATURES.join(',')}` });
      return z.NEVER;
    }
    return fs as ClusterFeature[];
  }).describe(`comma-separated derived master features (${CLUSTER_FEATURES.join(',')})`),
  kRange: z.string().regex(/^\d+\.\.\d+$/, 'must be FROM..TO, e.g. 2..300').optional().describe('print an elbow and silhouette table for every k in FROM..TO instead of clustering'),
  list: z.coerce.number().int().min(0).default(20).describe('clusters listed with their cars in the text output (all with --json)'),
}).extend(commonSchema.shape);

export function parseRange(s: string): [number, number] {
  const [a, b] = s.split('..').map(Number);
  if (!(a >= 1 && b >= a)) throw new UserError(`--k-range ${s}: need 1 ≤ FROM ≤ TO`);
  return [a, b];
}
