/**
 * Prints the generated part of docs/collect.md — the keys the agent reads, every component's properties
 * (from the registry and the zod schemas, see src/collect/describe.ts) and the agent's metrics — as
 * markdown. With --write, replaces the block between `<!-- generated: collect-docs -->` and
 * `<!-- end generated -->` in docs/collect.md instead (test/collect/describe.test.ts checks they agree).
 *
 *   npx tsx scripts/collect-docs.ts            # print
 *   npx tsx scripts/collect-docs.ts --write    # update docs/collect.md
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownReference, replaceGeneratedBlock } from '../src/collect/describe.ts';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/collect.md');

const block = await markdownReference();
if (process.argv.includes('--write')) {
  const doc = fs.readFileSync(DOC, 'utf8');
  const next = replaceGeneratedBlock(doc, block);
  if (next !== doc) fs.writeFileSync(DOC, next);
  process.stdout.write(`${DOC}: ${next === doc ? 'already up to date' : 'generated block updated'}\n`);
} else {
  process.stdout.write(block);
}
