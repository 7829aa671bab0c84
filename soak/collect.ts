/**
 * `npm run soak:collect` — kill -9 the collection agent at random moments while it ingests a status day
 * through a file channel; after the last restart, check the lake holds every filtered line exactly once.
 *   SOAK_KILLS (default 20)   SOAK_CARS per day file (default 10 → 216,000 records; a new file every other kill)   SOAK_SEED (default 7)
 */
import fs from 'node:fs';
import { crashSoak } from './collect-harness.ts';

const kills = Number(process.env.SOAK_KILLS ?? 20);
const cars = Number(process.env.SOAK_CARS ?? 10);
const seed = Number(process.env.SOAK_SEED ?? 7);
const t0 = performance.now();
const r = await crashSoak({ kills, cars, seed, log: (l) => process.stdout.write(l + '\n') });
const secs = ((performance.now() - t0) / 1000).toFixed(1);
process.stdout.write(`\n${r.kills} kills (${r.midIngest} mid-ingest), ${r.expected} expected lines, ${r.stored} stored: ${r.missing} missing, ${r.duplicates} duplicated, ${r.extra} unexpected, ${r.badSuffix} without the processing date; ${r.tooLong} over-long lines, ${r.deadLetters} dead letters (${secs} s)\n`);
const ok = r.missing === 0 && r.duplicates === 0 && r.extra === 0 && r.badSuffix === 0 && r.stored === r.expected && r.deadLetters >= r.tooLong;
process.stdout.write(ok ? 'PASS\n' : `FAIL (data kept in ${r.dir})\n`);
if (ok) fs.rmSync(r.dir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
