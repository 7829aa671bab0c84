/**
 * The README's walkthrough, run as a user would paste it: every fenced block marked `sh walkthrough`,
 * in order, as one bash script (so `&`, `kill %1` and `until …` behave as in a terminal), in a fresh
 * directory laid out like a clone (agents/, rules/ linked), with `npx smartcar` running this checkout.
 * Edit the README and this test follows; a command that no longer works fails it.
 *
 * Only the ports are moved (a smartcar.config.json in that directory: 0 = any free port), since the
 * machine running the suite may have 8080 and 9092 taken.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { endAll, SMARTCAR_BIN } from '../support/platform.ts';
import { needService, needTool } from '../support/require.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The `sh walkthrough` blocks of a markdown file, in order. */
export function walkthrough(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh walkthrough\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

const tools = needTool('kcat', ['-V'], 'the README walkthrough lists the broker with kcat')
  && needTool('psql', ['--version'], 'the README walkthrough queries the SQL server with psql')
  && needTool('curl', ['--version'], 'the README walkthrough calls the prediction service')
  && (await needService('PostgreSQL', '127.0.0.1', 5432, 'the README walkthrough exports into PostgreSQL'));

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-readme-'));
const track: ChildProcess[] = [];
afterAll(() => {
  endAll(root, track);
  if (!process.env.SMARTCAR_E2E_KEEP) {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync('/tmp/smartcar-walk', { recursive: true, force: true });
  }
});

describe('README', () => {
  const blocks = walkthrough(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'));

  it('marks its walkthrough blocks, and they cover the platform, marts, agent, broker, analysis and services', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const all = blocks.join('\n');
    for (const cmd of ['smartcar up', 'smartcar status', 'smartcar workflow run', 'smartcar sql', 'smartcar agent', 'smartcar broker', 'smartcar ml', 'smartcar serve predict', 'smartcar sql-server', 'smartcar export']) {
      expect(all).toContain(cmd);
    }
  });

  it.skipIf(!tools)('walkthrough runs, pasted in order into a fresh clone, and every command succeeds', { timeout: 1_800_000 }, async () => {
    const clone = path.join(root, 'clone');
    fs.mkdirSync(clone);
    for (const d of ['agents', 'rules']) fs.symlinkSync(path.join(REPO, d), path.join(clone, d));
    fs.writeFileSync(path.join(clone, 'smartcar.config.json'), JSON.stringify({ broker: { port: 0 }, console: { port: 0 } }));
    fs.rmSync('/tmp/smartcar-walk', { recursive: true, force: true });
    // `npx smartcar …` runs this checkout (as npx does in a clone after npm ci); anything else is left alone.
    const bin = path.join(root, 'bin');
    fs.mkdirSync(bin);
    const realNpx = spawnSync('sh', ['-c', 'command -v npx'], { encoding: 'utf8' }).stdout.trim();
    fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\nif [ "$1" = smartcar ]; then shift; exec "${process.execPath}" "${SMARTCAR_BIN}" "$@"; fi\nexec "${realNpx}" "$@"\n`, { mode: 0o755 });
    // Each command is echoed before it runs (set -x), so a failure names it.
    const script = ['set -euo pipefail', 'set -x', ...blocks].join('\n');
    fs.writeFileSync(path.join(root, 'walkthrough.sh'), script);
    const child = spawn('bash', [path.join(root, 'walkthrough.sh')], {
      cwd: clone, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PS4: '+ README: ' },
    });
    track.push(child);
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    const last = out.split('\n').filter((l) => l.startsWith('+ README: ')).pop();
    expect(code, `the walkthrough stopped at: ${last}\n${out.slice(-6000)}`).toBe(0);
    // A few outputs a user would look at.
    expect(out).toMatch(/all components up/);
    expect(out).toMatch(/car_number.*tire_check|0 row\(s\)|\d+ row\(s\)/);
    expect(out).toMatch(/SUCCEEDED/);
    expect(out).toMatch(/"success": ?true/);
    expect(fs.existsSync(path.join(clone, 'smartcar-data', 'state', 'platform.lock'))).toBe(false);
  });
});
