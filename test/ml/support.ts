/** A data directory with a seeded master and status mart / purchase mart, built the way the workflows build them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeMaster, writeStatusDay } from '../../src/sim/index.ts';
import { buildMart, loadReference } from '../../src/sql/index.ts';

export const tmpDir = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-ml-${n}-`));

export async function masterInto(dataDir: string, seed = 1, edit?: (rows: string[][]) => string[][]): Promise<string[][]> {
  const file = await writeMaster({ outDir: path.join(dataDir, 'in'), seed });
  let rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('|'));
  if (edit) rows = edit(rows);
  fs.writeFileSync(file, rows.map((r) => r.join('|')).join('\n') + '\n');
  loadReference('master', file, dataDir);
  return rows;
}

/** One simulated status day of `cars` cars in the lake (as the collector writes it), and its mart. */
export async function statusMart(dataDir: string, day: string, cars: number, seed = 3, extraLines: string[] = []): Promise<void> {
  const f = await writeStatusDay({ date: day, cars, outDir: path.join(dataDir, 'in'), seed });
  const part = path.join(dataDir, 'lake', 'collect', 'car-batch-log', `wrk_date=${day}`);
  fs.mkdirSync(part, { recursive: true });
  const lines = fs.readFileSync(f.file, 'latin1').split('\n').filter((l) => /^\d{14}/.test(l));
  fs.writeFileSync(path.join(part, 'car-batch-log.1.log'), [...lines, ...extraLines].map((l) => `${l},${day}`).join('\n') + '\n', 'latin1');
  fs.rmSync(f.file);
  await buildMart('status', day, { dataDir });
}

export function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/smartcar.js', ...args], { encoding: 'utf8', timeout: 240_000 });
}
