/**
 * `npm run soak:collect` — kill -9 the collection agent at random moments (1) while it ingests status day
 * files through a file channel, (2) while it follows a rotating driving log; after the last restart, check
 * the lake holds every filtered line exactly once.
 *   SOAK_KILLS (default 20)   SOAK_CARS per day file (default 10 → 216,000 records; a new file every other kill)   SOAK_SEED (default 7)
 */
import fs from 'node:fs';
import { crashSoak, tailCrashSoak } from './collect-harness.ts';

const kills = Number(process.env.SOAK_KILLS ?? 20);
const cars = Number(process.env.SOAK_CARS ?? 10);
const seed = Number(process.env.SOAK_SEED ?? 7);
const t0 = performance.now();
const r = await crashSoak({ kills, cars, seed, log: (l) => process.stdout.write(l + '\n') });
const secs = ((performance.now() - t0) / 1000).toFixed(1);
process.stdout.write(`\n${r.kills} kills (${r.midIngest} mid-ingest), ${r.expected} expected lines, ${r.stored} stored: ${r.missing} missing, ${r.duplicates} duplicated, ${r.extra} unexpected, ${r.badSuffix} without the processing date; ${r.tooLong} over-long lines, ${r.deadLetters} dead letters (${secs} s)\n`);
const ok = r.missing === 0 && r.duplicates === 0 && r.extra === 0 && r.badSuffix === 0 && r.stored === r.expected && r.deadLetters >= r.tooLong;
process.stdout.write(ok ? 'PASS (spool flow)\n\n' : `FAIL (data kept in ${r.dir})\n\n`);
if (ok) fs.rmSync(r.dir, { recursive: true, force: true });

const t1 = performance.now();
const t = await tailCrashSoak({ kills, log: (l) => process.stdout.write(l + '\n') });
const tailOk = t.missing === 0 && t.duplicates === 0 && t.extra === 0 && t.stored === t.expected;
process.stdout.write(`\ntail flow: ${t.kills} kills, ${t.expected} lines written, ${t.stored} stored: ${t.missing} missing, ${t.duplicates} duplicated, ${t.extra} unexpected (${((performance.now() - t1) / 1000).toFixed(1)} s)\n`);
process.stdout.write(tailOk ? 'PASS (tail flow)\n' : `FAIL (data kept in ${t.dir})\n`);
if (tailOk) fs.rmSync(t.dir, { recursive: true, force: true });
process.exit(ok && tailOk ? 0 : 1);
