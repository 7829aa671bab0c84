/**
 * Long commands stopped by Ctrl-C leave no debris, the simulator's waits do not leak listeners, a
 * random seed is printed so the output can be made again, and a backfill says which days failed and why.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { SMARTCAR_BIN } from '../../src/platform/supervisor.ts';
import { waitFor } from '../support/overspeed.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-interrupts-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function start(args: string[]) {
  const c = spawn(process.execPath, [SMARTCAR_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  c.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
  c.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => c.on('close', (status) => resolve({ status, stdout, stderr })));
  return { child: c, done };
}

describe('Ctrl-C', () => {
  it('during gen status removes the hidden partial file and exits 130', async () => {
    const out = path.join(root, 'spool');
    const g = start(['gen', 'status', '--date', '20240101', '--cars', '20000', '--out', out, '--seed', '1']);
    await waitFor(() => fs.existsSync(out) && fs.readdirSync(out).some((f) => f.endsWith('.tmp') && fs.statSync(path.join(out, f)).size > 0), 60_000, 'the partial file');
    g.child.kill('SIGINT');
    const r = await g.done;
    expect(r.status).toBe(130);
    expect(r.stderr).toMatch(/smartcar: interrupted: .*SmartCarStatusInfo_20240101\.txt not written \(the partial file was removed\)/);
    expect(fs.readdirSync(out)).toEqual([]);
  }, 90_000);
});

describe('gen driver', () => {
  it('runs 14 s at real time without a MaxListenersExceededWarning (one abort listener per wait was never removed)', async () => {
    const r = await start(['gen', 'driver', '--cars', '2', '--duration', '14', '--seed', '3', '--out', path.join(root, 'drive.log')]).done;
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('MaxListenersExceededWarning');
    expect(r.stderr).toMatch(/appended \d+ records/);
  }, 60_000);
});

describe('gen master', () => {
  it('prints the random seed it chose, and that seed makes the same file again', async () => {
    const a = await start(['gen', 'master', '--out', path.join(root, 'm1')]).done;
    expect(a.status).toBe(0);
    const seed = /\(seed (\d+)\)/.exec(a.stderr)?.[1];
    expect(seed).toBeDefined();
    const b = await start(['gen', 'master', '--seed', seed!, '--out', path.join(root, 'm2')]).done;
    expect(b.stderr).toContain(`(seed ${seed})`);
    expect(fs.readFileSync(path.join(root, 'm2', 'CarMaster.txt'), 'utf8')).toBe(fs.readFileSync(path.join(root, 'm1', 'CarMaster.txt'), 'utf8'));
  }, 60_000);
});

describe('workflow backfill', () => {
  it('names every failed day and its reason at the end', async () => {
    const data = path.join(root, 'flow');
    fs.mkdirSync(data);
    const r = await start(['workflow', 'backfill', 'emergency-check', '--from', '20240301', '--to', '20240302', '--data', data]).done;
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('backfill emergency-check: 0 succeeded, 2 failed');
    expect(r.stdout).toMatch(/^ {2}20240301 failed: step \S+: .*20240301/m);
    expect(r.stdout).toMatch(/^ {2}20240302 failed: step \S+: .*20240302/m);
  }, 90_000);
});
