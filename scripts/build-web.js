// `prepare` (run by `npm ci` and `npm install` in a clone): builds the console's UI into web/dist, which
// `smartcar up` serves. Skipped, with a line saying so, where the build tools are absent (an install
// with --omit=dev); the console then answers / with how to build it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
if (!fs.existsSync(vite) || !fs.existsSync(path.join(root, 'web', 'vite.config.ts'))) {
  process.stderr.write('smartcar: the console UI is not built (vite is not installed); run `npm run build:web` after installing the dev dependencies\n');
  process.exit(0);
}
const r = spawnSync(process.execPath, [vite, 'build', '--config', path.join(root, 'web', 'vite.config.ts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write(`smartcar: building the console UI failed (exit ${r.status ?? r.signal}); see above, then run \`npm run build:web\`\n`);
  process.exit(r.status ?? 1);
}
process.stdout.write(`smartcar: console UI built into ${path.join('web', 'dist')}\n`);
