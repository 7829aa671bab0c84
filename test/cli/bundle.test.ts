/**
 * bin/smartcar.js runs the bundle scripts/build-cli.js writes into dist/cli/ while it matches src/,
 * and the TypeScript sources otherwise. Checked on a copy of the package (its own src/, bin/, dist/
 * and shipped files; node_modules linked), so editing its sources touches nothing of this checkout.
 * Which one ran is visible: the copy's bundle is marked after the build (its version reads
 * 0.1.0-bundle), and an edit of the copy's sources changes the version they print.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../pgwire/support.ts';

const here = process.cwd();
const PG = 'postgres://postgres@127.0.0.1:5432/test';
let pkg: string;

const smartcar = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [path.join(pkg, 'bin', 'smartcar.js'), ...args], { cwd: os.tmpdir(), env: { ...process.env, SMARTCAR_FROM_SOURCE: '', ...env }, timeoutMs: 60_000 });

/** Builds the copy's bundle, then marks it so that a run of it is recognisable. */
async function build(): Promise<void> {
  const r = await run(process.execPath, [path.join(pkg, 'scripts', 'build-cli.js')], { cwd: pkg, timeoutMs: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/command line bundled into dist\/cli/);
  // The root command (src/cli/root.ts) is in the chunk every command loads first.
  const dist = path.join(pkg, 'dist', 'cli');
  const holding = fs.readdirSync(dist).filter((f) => f.endsWith('.js') && fs.readFileSync(path.join(dist, f), 'utf8').includes('.version("0.1.0")'));
  expect(holding).toHaveLength(1);
  const file = path.join(dist, holding[0]!);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('.version("0.1.0")', '.version("0.1.0-bundle")'));
}

/** A file's mtime moved a few seconds on, as an editor saving it would (and beyond the stamp's resolution). */
function touch(file: string): void {
  const t = new Date(Date.now() + 5_000);
  fs.utimesSync(file, t, t);
}

beforeAll(async () => {
  pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bundle-'));
  for (const d of ['bin', 'src', 'scripts', 'workflows', 'rules', 'agents', 'notebooks']) fs.cpSync(path.join(here, d), path.join(pkg, d), { recursive: true });
  fs.copyFileSync(path.join(here, 'package.json'), path.join(pkg, 'package.json'));
  fs.symlinkSync(path.join(here, 'node_modules'), path.join(pkg, 'node_modules'));
  await build();
}, 120_000);

afterAll(() => {
  if (pkg) fs.rmSync(pkg, { recursive: true, force: true });
});

describe('the smartcar bin and its bundle', () => {
  it('runs the bundle while src/ is unchanged: --version, a DuckDB query, and the shipped workflows found from dist/', async () => {
    const v = await smartcar(['--version']);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe('0.1.0-bundle');
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bundle-data-'));
    try {
      const q = await smartcar(['sql', '--data', data, 'select 40 + 2 as answer']);
      expect(q.status, q.stderr).toBe(0);
      expect(q.stdout).toMatch(/answer[\s\S]*42/);
      const w = await smartcar(['workflow', 'list', '--data', data]);
      expect(w.status, w.stderr).toBe(0);
      expect(w.stdout).toMatch(/^symptom\s/m);
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  }, 120_000);

  it('exports through the bundle (pg and DuckDB\'s node API bundled into it): the rows arrive in PostgreSQL as they are', async () => {
    expect((await smartcar(['--version'])).stdout.trim()).toBe('0.1.0-bundle');
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-bundle-data-'));
    const target = `smartcar_t_bundle_${crypto.randomBytes(4).toString('hex')}`;
    const db = new pg.Client({ connectionString: PG });
    await db.connect();
    try {
      const master = path.join(data, 'lake', 'collect', 'car-master');
      fs.mkdirSync(master, { recursive: true });
      fs.writeFileSync(path.join(master, 'CarMaster.txt'), 'A0001|M|34|Y|서울|회사원|2000|2019|A\nB0002|F|41|N|부산\t해운대|자영업|1600|2021|B\n');
      const e = await smartcar(['export', '--table', 'smartcar_master', '--to', PG, '--target', target, '--mode', 'append', '--data', data]);
      expect(e.status, e.stderr).toBe(0);
      expect(e.stderr).toMatch(/^exported 2 rows into smartcar_t_bundle_\w+ \(created\)/);
      const rows = (await db.query(`select car_number, region, car_model from ${target} order by car_number`)).rows;
      expect(rows).toEqual([{ car_number: 'A0001', region: '서울', car_model: 'A' }, { car_number: 'B0002', region: '부산\t해운대', car_model: 'B' }]);
    } finally {
      await db.query(`drop table if exists ${target}`);
      await db.end();
      fs.rmSync(data, { recursive: true, force: true });
    }
  }, 120_000);

  it('runs the sources when SMARTCAR_FROM_SOURCE=1, though the bundle is fresh', async () => {
    const v = await smartcar(['--version'], { SMARTCAR_FROM_SOURCE: '1' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe('0.1.0');
  }, 60_000);

  it('runs the sources, edits included, once a file of src/ was written after the build', async () => {
    await build();
    const root = path.join(pkg, 'src', 'cli', 'root.ts');
    const original = fs.readFileSync(root, 'utf8');
    try {
      fs.writeFileSync(root, original.replace(".version('0.1.0')", ".version('0.1.0-edited')"));
      touch(root);
      const v = await smartcar(['--version']);
      expect(v.status, v.stderr).toBe(0);
      expect(v.stdout.trim()).toBe('0.1.0-edited');
    } finally {
      fs.writeFileSync(root, original);
    }
  }, 120_000);

  it('runs the sources once a file was added to src/ or removed from it', async () => {
    await build();
    const extra = path.join(pkg, 'src', 'core', 'extra.ts');
    fs.writeFileSync(extra, 'export {};\n');
    expect((await smartcar(['--version'])).stdout.trim()).toBe('0.1.0');
    await build();
    expect((await smartcar(['--version'])).stdout.trim()).toBe('0.1.0-bundle');
    fs.rmSync(extra);
    expect((await smartcar(['--version'])).stdout.trim()).toBe('0.1.0');
  }, 120_000);
});
