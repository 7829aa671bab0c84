// What the CLI bundle (dist/cli/, built by scripts/build-cli.js) was built from: the newest mtime and
// the number of the files and folders under src/. A folder's mtime moves when a file in it is added,
// removed or renamed, a file's when it is written, so any edit of src/ changes the stamp and
// bin/smartcar.js runs the sources instead of a stale bundle. Costs a stat per entry (a few ms).
import fs from 'node:fs';
import path from 'node:path';

export function sourceStamp(src) {
  let newest = fs.statSync(src).mtimeMs;
  let entries = 0;
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const t = fs.statSync(p).mtimeMs;
      if (t > newest) newest = t;
      entries++;
      if (e.isDirectory()) walk(p);
    }
  };
  walk(src);
  return `${newest}/${entries}`;
}
