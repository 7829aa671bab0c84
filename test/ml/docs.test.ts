import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markdownOptions } from '../../src/ml/index.ts';
import { trainSchema } from '../../src/ml/classify/schema.ts';
import { recommendSchema } from '../../src/ml/recommend/schema.ts';
import { clusterSchema } from '../../src/ml/kmeans/schema.ts';

describe('docs/ml.md', () => {
  it.each([['recommend', recommendSchema], ['classify train', trainSchema], ['cluster', clusterSchema]] as const)('has the option table of %s as its schema writes it', (name, schema) => {
    const doc = fs.readFileSync('docs/ml.md', 'utf8');
    const m = new RegExp(`<!-- options: ${name} -->\\n([\\s\\S]*?)\\n<!-- /options -->`).exec(doc);
    expect(m?.[1]).toBe(markdownOptions(schema as never));
  });
});
