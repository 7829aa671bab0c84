/** Options of the random forest (Spark ML's RandomForestClassifier defaults), one source for flags and docs. */
import { z } from 'zod';

export const forestSchema = z.object({
  numTrees: z.coerce.number().int().min(1).max(500).default(5).describe('trees in the forest'),
  maxDepth: z.coerce.number().int().min(0).max(20).default(5).describe('maximum depth of a tree (0 = a single leaf)'),
  maxBins: z.coerce.number().int().min(2).max(256).default(32).describe('histogram bins per feature; features with fewer distinct values get one bin each'),
  featureSubset: z.enum(['auto', 'all', 'sqrt', 'log2', 'onethird']).default('auto').describe('features tried at each split: auto = sqrt for a forest, all for one tree'),
  minInstancesPerNode: z.coerce.number().int().min(1).default(1).describe('smallest (weighted) row count of a child'),
  minInfoGain: z.coerce.number().min(0).default(0).describe('smallest Gini gain for a split'),
  bootstrap: z.enum(['auto', 'true', 'false']).default('auto').describe('Poisson(1) bootstrap weights per row and tree: auto = on for a forest, off for one tree'),
  seed: z.coerce.number().int().default(1).describe('seed of the bootstrap and feature subsets'),
});
export type ForestConfig = z.output<typeof forestSchema>;
export const forestDefaults = (): ForestConfig => forestSchema.parse({});
