/**
 * A data directory with the car master, one day of driving copied into the lake, and the drive and
 * symptom marts built from it by the real mart builders — what the SQL server's clients read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeMaster, driverLines } from '../../src/sim/index.ts';
import { buildMart, loadReference, lakePaths } from '../../src/sql/index.ts';
import { parseDate8 } from '../../src/core/time.ts';

export const DAY = '20240105';

export async function martDataDir(name: string, cars = 60, records = 200): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-${name}-`));
  const master = await writeMaster({ outDir: path.join(root, 'in'), seed: 7 });
  loadReference('master', master, root);
  const dir = path.join(lakePaths(path.join(root, 'lake')).drive, `wrk_date=${DAY}`);
  fs.mkdirSync(dir, { recursive: true });
  const rows: string[] = [];
  for (const line of driverLines({ cars, seed: 11, startMs: parseDate8(DAY), records })) {
    const f = line.split(',');
    rows.push([`${f[0]}-${f[1]}`, ...f].join(','));
  }
  fs.writeFileSync(path.join(dir, 'drive.csv'), rows.join('\n') + '\n');
  await buildMart('drive', DAY, { dataDir: root });
  await buildMart('symptom', DAY, { dataDir: root });
  return root;
}
