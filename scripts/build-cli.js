// `prepare` (run by `npm ci` and `npm install` in a clone): bundles the command line (src/cli/main.ts
// and every module it loads) into dist/cli/ with esbuild, so `smartcar` starts without compiling
// TypeScript on each call. npm packages stay external (native DuckDB and LMDB among them), but for the
// few of BUNDLED below and what they require; modules loaded with import() stay separate chunks, loaded
// only when a command needs them. The stamp of the
// sources (bin/source-stamp.js) is written beside it: bin/smartcar.js runs the bundle only while src/
// is unchanged since, and the sources through tsx otherwise. A failed build leaves no bundle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceStamp } from '../bin/source-stamp.js';

/**
 * Pure-JavaScript packages on the path of `smartcar export` (compared with psql, which starts in
 * milliseconds), bundled into the chunks that use them with their own dependencies: node loads one
 * file instead of many (DuckDB's node API is 180 files: 60–90 ms loaded from node_modules, 25–45 ms
 * bundled; pg and its 15 packages 45 ms). Never a native package: those stay external (NATIVE).
 */
const BUNDLED = new Set(['@duckdb/node-api', 'pg', 'pg-copy-streams', 'commander']);
const NATIVE = /^(@duckdb\/node-bindings|pg-native)(-|\/|$)/;
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const externals = {
  name: 'externals',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || NATIVE.test(args.path)) return { external: true };
      // A file inside node_modules is one of a bundled package (or of its dependencies): bundled too.
      if (BUNDLED.has(packageOf(args.path)) || args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      return { external: true };
    });
  },
};

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
    plugins: [externals],
    // A bundled CommonJS package's require() of an external one (DuckDB's API loading its native
    // bindings) needs a require in the ES module chunks.
    banner: { js: "import { createRequire as __smartcarCreateRequire } from 'node:module'; const require = __smartcarCreateRequire(import.meta.url);" },
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
