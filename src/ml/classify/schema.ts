/** Options of `smartcar ml classify …`: the forest's (Spark ML defaults) plus the data and the split. */
import { z } from 'zod';
import { forestSchema } from '../forest/schema.ts';
import { commonSchema, day8 } from '../common.ts';

const days = {
  day: day8.optional().describe('a day of the status mart (yyyyMMdd)'),
  from: day8.optional().describe('first day of a range of the status mart'),
  to: day8.optional().describe('last day of the range (inclusive)'),
};
const model = { model: z.string().optional().describe('model file (default <data>/models/status-forest.model)') };

export const trainSchema = forestSchema.extend({
  ...days,
  trainFraction: z.coerce.number().gt(0).lte(1).default(0.7).describe('share of the rows trained on; the rest is the test part'),
  splitSeed: z.coerce.number().int().default(1).describe('seed of the train/test split (a row\'s side follows from its key and this seed)'),
  ...model,
}).extend(commonSchema.shape);
export const evaluateSchema = z.object({ ...days, ...model }).extend(commonSchema.shape);
export const predictSchema = z.object({ file: z.string().optional().describe('a file of cars, one per line, 14 values each in the seed\'s order'), ...model }).extend(commonSchema.shape);
export const scoreSchema = z.object({ day: day8.optional().describe('the day of the status mart to score (yyyyMMdd)'), ...model }).extend(commonSchema.shape);

export type TrainOptions = z.output<typeof trainSchema>;
