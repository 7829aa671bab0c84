/** Options of `smartcar ml recommend` (Mahout recommenditembased's defaults), one source for flags and docs. */
import { z } from 'zod';
import { commonSchema, month6 } from '../common.ts';

export const SIMILARITIES = ['cooccurrence', 'cosine', 'loglikelihood', 'jaccard'] as const;
export type Similarity = (typeof SIMILARITIES)[number];

export const itemBasedSchema = z.object({
  top: z.coerce.number().int().min(1).max(100).default(3).describe('recommendations per car'),
  similarity: z.enum(SIMILARITIES).default('cooccurrence').describe('item similarity (Mahout SIMILARITY_COOCCURRENCE, _COSINE, _LOGLIKELIHOOD, _TANIMOTO_COEFFICIENT)'),
  maxPrefsPerUser: z.coerce.number().int().min(1).default(10).describe('a car\'s highest-scored items used to predict (ties at the edge kept), Mahout\'s --maxPrefsPerUser'),
  maxSimilaritiesPerItem: z.coerce.number().int().min(1).default(100).describe('most similar items kept per item, Mahout\'s --maxSimilaritiesPerItem'),
});
export type ItemBasedConfig = z.output<typeof itemBasedSchema>;

export const recommendSchema = itemBasedSchema.extend({
  month: month6.optional().describe('the month of the purchase mart (yyyyMM)'),
  evaluate: z.boolean().optional().describe('hold out a share of each car\'s items and report precision@k and recall@k next to a most-popular baseline'),
  holdout: z.coerce.number().gt(0).lt(1).default(0.2).describe('share of each car\'s distinct items held out by --evaluate'),
  seed: z.coerce.number().int().default(1).describe('seed of the holdout'),
}).extend(commonSchema.shape);
