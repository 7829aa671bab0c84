/**
 * Where the package's shipped files are (bin/, workflows/, rules/, agents/, notebooks/, web/dist/):
 * found from this module's own file by walking up to the package.json named "smartcar", so the
 * same answer holds when it runs from src/core/ (tsx) and from the bundle in dist/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'smartcar') return dir;
    if (path.dirname(dir) === dir) throw new Error(`smartcar: no package.json named "smartcar" above ${from}; is the package installed whole?`);
  }
}

/** The package's root directory (the one holding package.json). */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A path inside the package, e.g. `shippedPath('workflows')`. */
export const shippedPath = (...parts: string[]): string => path.join(PACKAGE_ROOT, ...parts);
