/**
 * Every listening socket of a running `smartcar up` (the supervisor and each child) is on loopback,
 * read from /proc/<pid>/fd and /proc/net/tcp{,6}; a non-loopback bind of the broker without
 * credentials is refused at start with one clear line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { endAll, SMARTCAR_BIN, startUp } from '../support/platform.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-listeners-'));
const started: ChildProcess[] = [];
afterAll(() => {
  endAll(root, started);
  fs.rmSync(root, { recursive: true, force: true });
});

/** Socket inodes a process holds open. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  return out;
}

/** LISTEN sockets of the kernel's tables: inode → local address (hex, as /proc writes it). */
function listening(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(f)) continue;
    for (const line of fs.readFileSync(f, 'utf8').trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') out.set(cols[9], cols[1]);
    }
  }
  return out;
}

const LOOPBACK4 = /^[0-9A-F]{6}7F:[0-9A-F]{4}$/; // 127.x.x.x, little-endian
const LOOPBACK6 = /^0{24}01000000:[0-9A-F]{4}$/; // ::1

describe('listeners of smartcar up', () => {
  it('are all on loopback', async () => {
    const data = path.join(root, 'up');
    const u = await startUp(data, ['--port', '0', '--broker-port', '0', '--no-sim'], { track: started, readyMs: 90_000 });
    const { child, exited } = u;
    const pids = [child.pid!, ...Object.values(u.children())];
    expect(pids).toHaveLength(6);
    const table = listening();
    const mine: string[] = [];
    for (const pid of pids) for (const inode of socketInodes(pid)) if (table.has(inode)) mine.push(table.get(inode)!);
    // The supervisor's HTTP port, the broker, and every child's /metrics port.
    expect(mine.length).toBeGreaterThanOrEqual(6);
    expect(mine.filter((a) => !LOOPBACK4.test(a) && !LOOPBACK6.test(a))).toEqual([]);
    // Cross-check with ss, an independent reader of the same kernel tables.
    const ss = spawnSync('ss', ['-Hltnp'], { encoding: 'utf8' });
    if (ss.status === 0) {
      for (const l of ss.stdout.split('\n').filter((x) => pids.some((p) => x.includes(`pid=${p},`)))) expect(l).toMatch(/\s(127\.\d+\.\d+\.\d+|\[::1\]):\d+\s/);
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 150_000);

  it('a broker bound to another address without credentials is refused at start', () => {
    for (const host of ['0.0.0.0', '10.200.0.1']) {
      const r = spawnSync(process.execPath, [SMARTCAR_BIN, 'broker', '--host', host, '--port', '0', '--data', path.join(root, 'b')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toMatch(new RegExp(`^smartcar: --host ${host.replace(/\./g, '\\.')} would let other hosts reach the broker without credentials`));
      expect(fs.existsSync(path.join(root, 'b'))).toBe(false);
    }
  }, 90_000);
});
