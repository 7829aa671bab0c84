/**
 * Whether a pid names a running process: it exists (EPERM: it does, under another user) and is not a
 * zombie. A process killed with -9 whose parent died too stays a zombie until init reaps it; it holds no
 * port, file or lock any more, so locks that name it are stale. `kill(pid, 0)` alone says "alive".
 */
import fs from 'node:fs';

export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    // Gone in between (false), or no /proc at all (not Linux: kill(pid, 0) is all there is to ask).
    return !fs.existsSync('/proc/self');
  }
}
