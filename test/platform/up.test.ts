import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { readLock } from '../../src/platform/lock.ts';
import { processRunning as isAlive } from '../../src/core/index.ts';
import { waitFor } from '../support/overspeed.ts';
import { endAll, SMARTCAR_BIN, startUp as start } from '../support/platform.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-up-'));
const started: ChildProcess[] = [];
afterAll(() => {
  endAll(root, started);
  fs.rmSync(root, { recursive: true, force: true });
});

async function startUp(data: string) {
  const u = await start(data, ['--port', '0', '--broker-port', '0', '--no-sim'], { track: started, readyMs: 90_000 });
  return { child: u.child, out: u.output, exited: u.exited, children: Object.values(u.children()) };
}

describe('smartcar up: stopping', () => {
  it('Ctrl-C stops the components in reverse order and exits 0, releasing the lock', async () => {
    const data = path.join(root, 'clean');
    const u = await startUp(data);
    expect(u.out()).toMatch(/^ {2}broker +pid \d+/m);
    expect(u.out()).not.toMatch(/^ {2}sim /m);
    expect(u.children).toHaveLength(5); // broker, stream, agent, scheduler, sql-server
    // A second `up` on the same data directory is refused while this one runs.
    const second = spawnSync(process.execPath, [SMARTCAR_BIN, 'up', '--data', data, '--port', '0', '--broker-port', '0', '--no-sim'], { encoding: 'utf8', timeout: 60_000 });
    expect(second.status).toBe(3);
    expect(second.stderr).toContain(`is in use by smartcar up (pid ${u.child.pid}`);
    u.child.kill('SIGINT');
    expect(await u.exited).toBe(0);
    const stops = [...u.out().matchAll(/^\S+ ([\w-]+) stopped$/gm)].map((m) => m[1]);
    expect(stops).toEqual(['sql-server', 'scheduler', 'agent', 'stream', 'broker']);
    expect(u.children.every((pid) => !isAlive(pid))).toBe(true);
    expect(fs.existsSync(path.join(data, 'state', 'platform.lock'))).toBe(false);
  });

  it('a second Ctrl-C forces: exit 130 at once, every child killed', async () => {
    const data = path.join(root, 'forced');
    const u = await startUp(data);
    // A hung component (a real fault: the broker frozen with SIGSTOP) makes the orderly stop wait.
    const broker = readLock(path.join(data, 'state'))!.children!.broker;
    process.kill(broker, 'SIGSTOP');
    u.child.kill('SIGINT');
    // Signals of one kind do not queue: send the second once the first is being handled.
    await waitFor(() => u.out().includes('stopping:'), 10_000, 'the first Ctrl-C to be handled');
    u.child.kill('SIGINT');
    expect(await u.exited).toBe(130);
    expect(u.out()).toContain('SIGINT again: forcing exit');
    expect(u.out()).not.toMatch(/broker stopped/);
    await waitFor(() => u.children.every((pid) => !isAlive(pid)), 10_000, 'the children to be gone');
  });
});
