/**
 * Atomic replacement of a partition directory. The new partition is written beside the old one
 * (`.<name>.tmp-<pid>-<ms>`), then the old one moves aside (`.<name>.old-<ms>`), the new one takes its
 * name and the old one is removed. A crash before the swap leaves the previous partition untouched; a
 * crash between the two renames is repaired by `recoverPartitions` (the previous partition returns).
 * Readers list only names without a leading dot.
 */
import fs from 'node:fs';
import path from 'node:path';

export function tempPartition(parent: string, name: string): string {
  const tmp = path.join(parent, `.${name}.tmp-${process.pid}-${Date.now()}`);
  fs.mkdirSync(tmp, { recursive: true });
  return tmp;
}

export function swapIn(tmp: string, parent: string, name: string): void {
  const final = path.join(parent, name);
  const old = path.join(parent, `.${name}.old-${Date.now()}`);
  if (fs.existsSync(final)) fs.renameSync(final, old);
  fs.renameSync(tmp, final);
  fs.rmSync(old, { recursive: true, force: true });
}

export function recoverPartitions(parent: string): void {
  if (!fs.existsSync(parent)) return;
  for (const e of fs.readdirSync(parent)) {
    const old = /^\.(.+)\.old-\d+$/.exec(e);
    if (old) {
      const final = path.join(parent, old[1]);
      if (fs.existsSync(final)) fs.rmSync(path.join(parent, e), { recursive: true, force: true });
      else fs.renameSync(path.join(parent, e), final);
    } else if (/^\..+\.tmp-\d+-\d+$/.test(e)) {
      fs.rmSync(path.join(parent, e), { recursive: true, force: true });
    }
  }
}
