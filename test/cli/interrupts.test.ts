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

/** Paths under `dir` (4 levels) whose name marks a partition being written: `.<name>.tmp-<pid>…`. */
function tmpPartitions(dir: string, depth = 0): string[] {
  if (depth > 4 || !fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (/\.tmp-\d+/.test(e.name)) out.push(p);
    else if (e.isDirectory()) out.push(...tmpPartitions(p, depth + 1));
  }
  return out;
}

describe('Ctrl-C during workflow run', () => {
  it('removes the partition being written, records the run as interrupted in the history, and exits 130', async () => {
    const data = path.join(root, 'wf-int');
    const day = '20240107';
    const gen = path.join(root, 'wf-gen');
    // A status day in the lake as the agent leaves it (each record + `,<processing date>`), and the master.
    for (const args of [['gen', 'master', '--seed', '2', '--out', gen], ['gen', 'status', '--date', day, '--cars', '60', '--seed', '2', '--out', gen]]) {
      expect((await start(args).done).status).toBe(0);
    }
    expect((await start(['load', 'master', path.join(gen, 'CarMaster.txt'), '--data', data]).done).status).toBe(0);
    const part = path.join(data, 'lake', 'collect', 'car-batch-log', `wrk_date=${day}`);
    fs.mkdirSync(part, { recursive: true });
    const lines = fs.readFileSync(path.join(gen, `SmartCarStatusInfo_${day}.txt`), 'latin1').split('\n').filter((l) => /^\d{14}/.test(l));
    fs.writeFileSync(path.join(part, 'car-batch-log.1.log'), lines.map((l) => `${l},${day}\n`).join(''), 'latin1');

    const w = start(['workflow', 'run', 'status', '--day', day, '--data', data]);
    // Watch closely: the partition exists only while DuckDB writes it.
    let seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        seen = tmpPartitions(path.join(data, 'lake'));
        if (seen.length) { clearInterval(t); resolve(); }
        if (w.child.exitCode !== null) { clearInterval(t); reject(new Error('the run ended before a partition was being written')); }
      }, 5);
    });
    w.child.kill('SIGINT');
    const r = await w.done;
    expect(r.status).toBe(130);
    expect(r.stderr).toMatch(/status 20240107 INTERRUPTED \(interrupted by SIGINT during step (compact|mart)\); recorded in the history, partial output removed/);
    expect(seen.length).toBeGreaterThan(0);
    expect(tmpPartitions(path.join(data, 'lake'))).toEqual([]);
    const h = await start(['workflow', 'history', 'status', '--json', '--data', data]).done;
    const runs = h.stdout.trim().split('\n').map((l) => JSON.parse(l) as { day: string; state: string; error?: string });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ day, state: 'interrupted' });
    expect(runs[0].error).toMatch(/^interrupted by SIGINT during step (compact|mart)$/);
    // The next run is not disturbed by what the interrupted one left.
    const again = await start(['workflow', 'run', 'status', '--day', day, '--data', data]).done;
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('SUCCEEDED');
  }, 240_000);
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
