/**
 * `npm run soak:platform` — the chaos soak of the whole platform (issue 18, soak/platform-harness.ts):
 * `smartcar up` with 1,000 cars at ×20 and a fixed seed, kill -9 of a random component 20 times and of
 * the supervisor 3 times at random moments, then every store checked against the oracles.
 *   SOAK_CARS (1000)  SOAK_SPEEDUP (20)  SOAK_SEED (18)  SOAK_DATE (20240105)  SOAK_STATUS_CARS (100)
 *   SOAK_KILLS (20)  SOAK_SUPERVISOR_KILLS (3)  SOAK_TREE_KILLS (0: kill -9 of the whole tree at once)  SOAK_GAP_MS (5000-25000)  SOAK_DRAIN_MS (1800000)
 *   SOAK_KEEP=1 keeps the data directory.
 */
import fs from 'node:fs';
import { platformSoak, summary } from './platform-harness.ts';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const [gapLo, gapHi] = (process.env.SOAK_GAP_MS ?? '5000-25000').split('-').map(Number);
const r = await platformSoak({
  cars: env('SOAK_CARS', 1000),
  speedup: env('SOAK_SPEEDUP', 20),
  seed: env('SOAK_SEED', 18),
  date: process.env.SOAK_DATE ?? '20240105',
  statusCars: env('SOAK_STATUS_CARS', 100),
  componentKills: env('SOAK_KILLS', 20),
  supervisorKills: env('SOAK_SUPERVISOR_KILLS', 3),
  treeKills: env('SOAK_TREE_KILLS', 0),
  gapMs: [gapLo, gapHi],
  drainMs: env('SOAK_DRAIN_MS', 1_800_000),
  log: (l) => process.stdout.write(l + '\n'),
});
process.stdout.write(`\n${summary(r)}\n${r.ok ? 'PASS' : `FAIL (data kept in ${r.dir})`}\n`);
if (r.ok && !process.env.SOAK_KEEP) fs.rmSync(r.dir, { recursive: true, force: true });
else process.stdout.write(`data in ${r.dir}\n`);
process.exit(r.ok ? 0 : 1);
