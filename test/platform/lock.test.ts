import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, readLock } from '../../src/platform/lock.ts';
import { processRunning as isAlive } from '../../src/core/index.ts';
import { SMARTCAR_BIN } from '../../src/platform/supervisor.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-lock-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited (so the lock naming it is stale). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  expect(isAlive(pid)).toBe(false);
  return pid;
}

describe('data directory lock', () => {
  it('refuses a second owner while the first is alive, naming its pid and port', () => {
    const state = path.join(root, 'a', 'state');
    const lock = acquireLock(state);
    lock.update({ port: 18080 });
    // Another live process holds it: write its pid as owner (this test process is alive).
    expect(readLock(state)).toMatchObject({ pid: process.pid, port: 18080 });
    const other = { ...readLock(state)!, pid: process.ppid };
    fs.writeFileSync(path.join(state, 'platform.lock'), JSON.stringify(other));
    expect(() => acquireLock(state)).toThrow(new RegExp(`in use by smartcar up \\(pid ${process.ppid}, http://127.0.0.1:18080/health\\)`));
    fs.writeFileSync(path.join(state, 'platform.lock'), JSON.stringify({ ...other, pid: process.pid }));
    lock.release();
    expect(fs.existsSync(path.join(state, 'platform.lock'))).toBe(false);
  });

  it('takes over a stale lock of a dead pid and ends the children it left behind', async () => {
    const state = path.join(root, 'b', 'state');
    fs.mkdirSync(state, { recursive: true });
    // An orphan of the dead owner: a real process whose command line names smartcar.
    const orphan = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'smartcar-orphan'], { stdio: 'ignore' });
    await new Promise((r) => orphan.once('spawn', r));
    const dead = deadPid();
    fs.writeFileSync(path.join(state, 'platform.lock'), JSON.stringify({ pid: dead, started: 1, children: { broker: orphan.pid } }));
    const heard: { pid: number; killed: number[] }[] = [];
    const exited = new Promise((r) => orphan.once('exit', (_c, sig) => r(sig)));
    const lock = acquireLock(state, (d, killed) => heard.push({ pid: d.pid, killed }));
    expect(heard).toEqual([{ pid: dead, killed: [orphan.pid] }]);
    expect(await exited).toBe('SIGKILL');
    expect(readLock(state)?.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a torn (unparseable) lock file', () => {
    const state = path.join(root, 'c', 'state');
    fs.mkdirSync(state, { recursive: true });
    fs.writeFileSync(path.join(state, 'platform.lock'), '{"pid":12');
    const lock = acquireLock(state);
    expect(readLock(state)?.pid).toBe(process.pid);
    lock.release();
  });

  it('smartcar up on a data directory in use exits 3 with a clear message and leaves the lock alone', () => {
    const data = path.join(root, 'busy');
    const state = path.join(data, 'state');
    fs.mkdirSync(state, { recursive: true });
    const owner = JSON.stringify({ pid: process.pid, started: 1, port: 18081 });
    fs.writeFileSync(path.join(state, 'platform.lock'), owner);
    const r = spawnSync(process.execPath, [SMARTCAR_BIN, 'up', '--data', data, '--port', '0', '--broker-port', '0', '--no-sim'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`is in use by smartcar up (pid ${process.pid}, http://127.0.0.1:18081/health)`);
    expect(r.stderr).toMatch(/Stop it first .* or choose another --data directory/);
    expect(fs.readFileSync(path.join(state, 'platform.lock'), 'utf8')).toBe(owner);
  });

  it('smartcar status says clearly when the platform is not running', () => {
    const data = path.join(root, 'idle');
    const dead = deadPid();
    fs.mkdirSync(path.join(data, 'state'), { recursive: true });
    fs.writeFileSync(path.join(data, 'state', 'platform.lock'), JSON.stringify({ pid: dead, started: 1, port: 1 }));
    const r = spawnSync(process.execPath, [SMARTCAR_BIN, 'status', '--data', data, '--port', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('the platform is not running: nothing answers on http://127.0.0.1:1/health');
    expect(r.stderr).toContain(`its lock names pid ${dead}, which is not running`);
    expect(r.stderr).toContain(`smartcar up --data ${data}`);
  });
});
