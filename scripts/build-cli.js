// `prepare` (run by `npm ci` and `npm install` in a clone): bundles the command line (src/cli/main.ts
// and every module it loads) into dist/cli/ with esbuild, so `smartcar` starts without compiling
// TypeScript on each call. npm packages stay external (native DuckDB and LMDB among them); modules
// loaded with import() stay separate chunks, loaded only when a command needs them. The stamp of the
// sources (bin/source-stamp.js) is written beside it: bin/smartcar.js runs the bundle only while src/
// is unchanged since, and the sources through tsx otherwise. A failed build leaves no bundle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceStamp } from '../bin/source-stamp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'cli');
const tmp = `${out}.building-${process.pid}`;
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('smartcar: the command line is not bundled (esbuild is not installed); it runs from its sources through tsx\n');
  process.exit(0);
}
// Stamped before bundling: an edit made during the build leaves a stamp that no longer matches.
const stamp = sourceStamp(path.join(root, 'src'));
fs.rmSync(out, { recursive: true, force: true });
try {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: 'src/cli/main.ts' },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  fs.writeFileSync(path.join(tmp, 'stamp'), stamp);
  fs.renameSync(tmp, out);
} catch (e) {
  fs.rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`smartcar: bundling the command line failed (${e.message.split('\n')[0]}); it runs from its sources through tsx. Run \`npm run build:cli\` to retry\n`);
  process.exit(0);
}
process.stdout.write(`smartcar: command line bundled into ${path.join('dist', 'cli')}\n`);
