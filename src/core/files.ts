/**
 * Making a file's name durable: after a file is created, renamed or removed, its directory is fsynced
 * too, or a crash may lose the change to the directory entry even though the file's bytes are on disk.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';

/** fsyncs directory `dir` (blocking: for code that already does synchronous file work). */
export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

/** fsyncs directory `dir` without blocking the event loop. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
