#!/usr/bin/env node
// Entry point of the `smartcar` command. It runs the bundle `npm ci` built into dist/cli/
// (scripts/build-cli.js) while that bundle matches src/ (bin/source-stamp.js), and otherwise the
// TypeScript sources through tsx's loader: a developer editing src/ never runs stale code, at the
// price of tsx's start-up (about a second) until `npm run build:cli`. SMARTCAR_FROM_SOURCE=1 forces the sources.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceStamp } from './source-stamp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist', 'cli');

function bundleIsFresh() {
  if (process.env.SMARTCAR_FROM_SOURCE === '1') return false;
  let built;
  try {
    built = fs.readFileSync(path.join(bundle, 'stamp'), 'utf8');
  } catch {
    return false; // never built (or built by a failed `prepare`): the sources
  }
  return built === sourceStamp(path.join(root, 'src'));
}

if (bundleIsFresh()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
