/**
 * One `smartcar up` per data directory: `<data>/state/platform.lock` holds the owner's pid, its HTTP
 * port and the pids of its children, as JSON. The file is created with O_EXCL, so two processes
 * starting together cannot both win. A lock whose pid is dead (kill -9, power loss) is stale: the
 * next `up` takes it over and first ends any child the dead owner left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { processRunning, UserError } from '../core/index.ts';

export interface LockInfo {
  pid: number;
  started: number;
  /** The HTTP port of /health and /metrics, once listening. */
  port?: number;
  /** Children by component name. */
  children?: Record<string, number>;
}

export interface PlatformLock {
  file: string;
  info: LockInfo;
  /** Rewrites the file with new facts (port, children). */
  update(patch: Partial<LockInfo>): void;
  release(): void;
}

export function lockFile(stateDir: string): string {
  return path.join(stateDir, 'platform.lock');
}

export function readLock(stateDir: string): LockInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(lockFile(stateDir), 'utf8')) as LockInfo;
    return Number.isInteger(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` runs the smartcar command (so a reused pid of an unrelated process is left alone). */
function isSmartcarProcess(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('smartcar');
  } catch {
    return false;
  }
}

/**
 * Takes the lock or throws a UserError naming the running owner. `onStale` hears about a takeover
 * (the dead owner's pid and the orphaned children that were killed).
 */
export function acquireLock(stateDir: string, onStale?: (dead: LockInfo, killed: number[]) => void): PlatformLock {
  fs.mkdirSync(stateDir, { recursive: true });
  const file = lockFile(stateDir);
  const info: LockInfo = { pid: process.pid, started: Date.now() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(info), { flag: 'wx' });
      return handle(file, info);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`cannot create the lock ${file}: ${(err as Error).message}`);
    }
    const owner = readLock(stateDir);
    if (owner && owner.pid !== process.pid && processRunning(owner.pid)) {
      throw new UserError(
        `the data directory ${path.dirname(stateDir)} is in use by smartcar up (pid ${owner.pid}${owner.port ? `, http://127.0.0.1:${owner.port}/health` : ''}).\n` +
          `Stop it first (Ctrl-C in its terminal, or kill ${owner.pid}), or choose another --data directory.`,
        3,
      );
    }
    // Stale (dead owner, or a file torn by a crash while being written): end orphans, then take over.
    const killed: number[] = [];
    for (const pid of Object.values(owner?.children ?? {})) {
      if (processRunning(pid) && isSmartcarProcess(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
          killed.push(pid);
        } catch {
          // Gone in between: nothing to end.
        }
      }
    }
    // Their ports and files must be free before new children start (also those already dying from a kill -9 of the tree).
    const listed = Object.values(owner?.children ?? {});
    const until = Date.now() + 5000;
    while (listed.some(processRunning) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    if (owner) onStale?.(owner, killed);
    fs.rmSync(file, { force: true });
  }
  throw new UserError(`cannot take the lock ${file}: another smartcar up keeps racing for it; try again`);
}

function handle(file: string, info: LockInfo): PlatformLock {
  let released = false;
  return {
    file,
    info,
    update(patch) {
      if (released) return;
      Object.assign(info, patch);
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, JSON.stringify(info));
        fs.renameSync(tmp, file);
      } catch {
        // A full disk: the lock stays held (the file names this pid); the next update writes the news.
        fs.rmSync(tmp, { force: true });
      }
    },
    release() {
      if (released) return;
      released = true;
      const owner = (() => {
        try {
          return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
        } catch {
          return undefined;
        }
      })();
      if (owner?.pid === info.pid) fs.rmSync(file, { force: true });
    },
  };
}
