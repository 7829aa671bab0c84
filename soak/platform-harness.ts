/**
 * Chaos soak of the whole platform (issue 18): `smartcar up` with a simulated fleet and a fixed seed;
 * kill -9 of a random component (broker, agent, stream, scheduler, sim — pids from /health) at random
 * moments, and of the supervisor itself, restarting `up` each time on the same data directory. Then a
 * last `up --no-sim` drains what is left, and everything stored is checked against the simulator's
 * output read by the suite's oracles (test/support, which imports nothing from src/):
 *   - every well-formed driving line is a row of DriverCarInfo, exactly once, and no row is anything else;
 *   - the hot store's overspeed sets equal the event-time computation over the log (test/support/overspeed.ts);
 *   - every status day is in the lake exactly once (every car's 21,600 records, none twice);
 *   - the emergency-check mart equals test/support/emergency.ts over the lake, the symptom mart equals
 *     test/support/symptom.ts over the log, the drive copy holds the day's records.
 * Used by `npm run soak:platform` (1,000 cars × 20, 20 + 3 kills) and, short, by test/e2e/soak.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { openCatalog } from '../src/sql/index.ts';
import {
  checkOverspeed, checkTable, endAll, fileLines, health, isGone, lakeStatusLines, killTree, overspeedDiff, processesOf,
  recordCode, smartcar, startUp, waitForTable, type Up,
} from '../test/support/platform.ts';
import { expectedOverspeed } from '../test/support/overspeed.ts';
import { expectedEmergency } from '../test/support/emergency.ts';
import { expectedSymptom, masterAges } from '../test/support/symptom.ts';
import { civilSecond, specLakeStatus, waitFor } from '../test/support/spec.ts';

export const COMPONENTS = ['broker', 'agent', 'stream', 'scheduler', 'sim'] as const;

export interface PlatformSoakOptions {
  cars: number;
  speedup: number;
  seed: number;
  /** First simulated day (yyyyMMdd). */
  date: string;
  statusCars: number;
  componentKills: number;
  supervisorKills: number;
  /** kill -9 of the supervisor and every child at once (a power cut of the tree, as test/e2e/up.test.ts does). */
  treeKills?: number;
  /** Random wait before each kill, wall ms. */
  gapMs: [number, number];
  /** How long the last `up --no-sim` may take to store what is left. */
  drainMs: number;
  log: (line: string) => void;
}

export interface Kill { n: number; what: string; pid: number; atS: number; backS: number }

export interface PlatformSoakResult {
  dir: string;
  kills: Kill[];
  /** Longest time any child outlived a killed supervisor (ms). */
  orphanMs: number;
  log: { good: number; distinct: number; repeated: number; other: number };
  table: { rows: number; missing: number; extra: number; examples: string[] };
  overspeed: { members: number; days: number; missing: string[]; extra: string[] };
  status: { days: Record<string, { lines: number; distinct: number; cars: number; complete: number }>; expectedLines: number };
  marts: { emergency: { rows: number; equal: boolean }; symptom: { rows: number; equal: boolean }; driveCopy: { rows: number; expected: number } };
  cleanStops: number[];
  seconds: number;
  ok: boolean;
}

/** A small seeded generator (mulberry32), so a failing schedule can be run again. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per simulated day of the lake's status lines: lines, distinct (time, car), cars, cars with all 21,600 records. */
function statusDays(lines: string[]): PlatformSoakResult['status']['days'] {
  const per = new Map<string, { lines: number; keys: Set<string>; cars: Map<string, number> }>();
  for (const l of lines) {
    const r = specLakeStatus(l);
    if (!r) continue;
    const day = r.regDate.slice(0, 8);
    const d = per.get(day) ?? { lines: 0, keys: new Set(), cars: new Map() };
    d.lines++;
    const k = `${r.regDate}-${r.car}`;
    if (!d.keys.has(k)) {
      d.keys.add(k);
      d.cars.set(r.car, (d.cars.get(r.car) ?? 0) + 1);
    }
    per.set(day, d);
  }
  const out: PlatformSoakResult['status']['days'] = {};
  for (const [day, d] of per) out[day] = { lines: d.lines, distinct: d.keys.size, cars: d.cars.size, complete: [...d.cars.values()].filter((n) => n === 21_600).length };
  return out;
}

export async function platformSoak(o: PlatformSoakOptions, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-soak-platform-'))): Promise<PlatformSoakResult> {
  const t0 = Date.now();
  const data = path.join(dir, 'data');
  const logFile = path.join(data, 'logs', 'driver-realtime-log', 'SmartCarDriverInfo.log');
  const table = { kind: 'lmdb' as const, path: path.join(data, 'table') };
  const hot = { kind: 'embedded' as const, path: path.join(data, 'hot') };
  const track: ChildProcess[] = [];
  const random = rng(o.seed);
  const args = ['--port', '0', '--broker-port', '0', '--cars', String(o.cars), '--speedup', String(o.speedup), '--seed', String(o.seed),
    '--date', o.date, '--status-cars', String(o.statusCars), '--garbage', '0.002'];
  const at = () => Math.round((Date.now() - t0) / 1000);
  const kills: Kill[] = [];
  const cleanStops: number[] = [];
  let orphanMs = 0;
  try {
    let u: Up = await startUp(data, args, { track });
    o.log(`${at()} s  up (pid ${u.child.pid}, port ${u.port()})`);
    // The schedule: component kills and supervisor kills, shuffled (the seed fixes it).
    const plan: string[] = [...Array.from({ length: o.componentKills }, () => COMPONENTS[Math.floor(random() * COMPONENTS.length)]),
      ...Array.from({ length: o.supervisorKills }, () => 'supervisor'), ...Array.from({ length: o.treeKills ?? 0 }, () => 'tree')];
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [plan[i], plan[j]] = [plan[j], plan[i]];
    }
    for (const [n, what] of plan.entries()) {
      await sleep(o.gapMs[0] + random() * (o.gapMs[1] - o.gapMs[0]));
      const killedAt = Date.now();
      if (what === 'supervisor' || what === 'tree') {
        const pid = u.child.pid!;
        if (what === 'tree') killTree(pid);
        else process.kill(pid, 'SIGKILL');
        await u.exited;
        await waitFor(() => processesOf(data).length === 0, 30_000, `every child of the killed supervisor to exit (left: ${processesOf(data).join(', ')})`);
        if (what === 'supervisor') orphanMs = Math.max(orphanMs, Date.now() - killedAt);
        u = await startUp(data, args, { track });
        kills.push({ n: n + 1, what, pid, atS: Math.round((killedAt - t0) / 1000), backS: Math.round((Date.now() - killedAt) / 1000) });
      } else {
        const port = u.port();
        const before = (await health(port)).components[what];
        if (!before?.pid) throw new Error(`/health names no pid for ${what}: ${JSON.stringify(before)}`);
        process.kill(before.pid, 'SIGKILL');
        await waitFor(async () => {
          const c = (await health(port).catch(() => undefined))?.components[what];
          return c !== undefined && c.phase === 'up' && c.pid !== before.pid;
        }, 300_000, `${what} to be restarted by the supervisor`);
        kills.push({ n: n + 1, what, pid: before.pid, atS: Math.round((killedAt - t0) / 1000), backS: Math.round((Date.now() - killedAt) / 1000) });
      }
      const k = kills[kills.length - 1];
      o.log(`${k.atS} s  kill ${k.n}/${plan.length}: ${k.what} (pid ${k.pid}), back after ${k.backS} s`);
    }
    await sleep(o.gapMs[0]);
    u.child.kill('SIGTERM');
    cleanStops.push((await u.exited) ?? -1);
    o.log(`${at()} s  stopped (exit ${cleanStops[0]}); draining with up --no-sim`);

    // The log no longer grows: the last run must store exactly what it holds.
    u = await startUp(data, [...args, '--no-sim'], { track });
    const drained = await waitForTable(logFile, table, o.drainMs);
    o.log(`${at()} s  table: ${drained.tableRows} rows, ${drained.missing.count} of the log's records missing`);
    const expected = expectedOverspeed(fileLines(logFile));
    // Windows close once the input has been idle (--idle-close, 60 s); then the sets are final.
    let over = await checkOverspeed(logFile, hot, undefined, expected);
    for (let tries = 0; tries < 16 && overspeedDiff(over).missing.length + overspeedDiff(over).extra.length > 0; tries++) {
      await sleep(15_000);
      over = await checkOverspeed(logFile, hot, undefined, expected);
    }
    // The status day: its spool file is deleted once ingested; its last lake file closes when idle or at stop.
    await waitFor(() => !fs.existsSync(path.join(data, 'spool', 'car-batch-log')) || fs.readdirSync(path.join(data, 'spool', 'car-batch-log')).filter((f) => !f.startsWith('.')).length === 0,
      o.drainMs, 'the status days to be ingested').catch((err: Error) => o.log(err.message));
    u.child.kill('SIGTERM');
    cleanStops.push((await u.exited) ?? -1);
    o.log(`${at()} s  stopped (exit ${cleanStops[1]})`);

    const final = await checkTable(logFile, table);
    const od = overspeedDiff(over);
    const lake = lakeStatusLines(data);
    const days = statusDays(lake);

    // The marts, built by the daily workflows as the scheduler would.
    const workDays = [...new Set(lake.map((l) => l.slice(l.lastIndexOf(',') + 1)))].sort();
    for (const d of workDays) for (const wf of ['status', 'emergency-check']) {
      const r = smartcar(['workflow', 'run', wf, '--day', d, '--data', data], { timeoutMs: 600_000 });
      if (r.status !== 0) throw new Error(`workflow ${wf} --day ${d}: ${r.out}`);
    }
    for (const wf of ['drive', 'symptom']) {
      const r = smartcar(['workflow', 'run', wf, '--day', o.date, '--data', data], { timeoutMs: 600_000 });
      if (r.status !== 0) throw new Error(`workflow ${wf} --day ${o.date}: ${r.out}`);
    }
    const cat = await openCatalog({ dataDir: data });
    let marts: PlatformSoakResult['marts'];
    try {
      const emergencyGot: string[] = [], emergencyWant: string[] = [];
      for (const d of workDays) {
        emergencyGot.push(...(await cat.query(`select car_number, tire_check, light_check, engine_check, break_check, battery_check from Managed_SmartCar_Emergency_Check_Info where biz_date = '${d}'`))
          .rows.map((x) => `${d} ${x.join('|')}`));
        emergencyWant.push(...expectedEmergency(lake.filter((l) => l.endsWith(`,${d}`)), 'lake').map((x) => `${d} ${x}`));
      }
      const ages = masterAges(fs.readdirSync(path.join(data, 'lake', 'collect', 'car-master')).filter((f) => f.endsWith('.txt'))
        .flatMap((f) => [...fileLines(path.join(data, 'lake', 'collect', 'car-master', f))]));
      const symptomGot = (await cat.query(`select car_number, speed_p_symptom, break_p_symptom, steer_a_cnt, steer_p_symptom from managed_smartcar_symptom_info where biz_date = '${o.date}'`))
        .rows.map((x) => x.join('|')).sort();
      const symptomWant = expectedSymptom(fileLines(logFile), o.date, ages);
      const copied = Number((await cat.query(`select count(*) from smartcar_drive_info_2 where wrk_date = '${o.date}'`)).rows[0][0]);
      // Distinct records of the day, from the oracle's reading of the log.
      const lo = recordCode(civilSecond(`${o.date}000000`)!, 'A0000'), hi = lo + 86_400 * 2 ** 18;
      const dayRecords = final.log.codes.filter((c) => c >= lo && c < hi).length;
      marts = {
        emergency: { rows: emergencyGot.length, equal: JSON.stringify(emergencyGot.sort()) === JSON.stringify(emergencyWant.sort()) },
        symptom: { rows: symptomGot.length, equal: JSON.stringify(symptomGot) === JSON.stringify(symptomWant) && symptomWant.length > 0 },
        driveCopy: { rows: copied, expected: dayRecords },
      };
    } finally {
      await cat.close();
    }

    const expectedLines = o.statusCars * 21_600;
    const statusOk = Object.keys(days).length > 0 && Object.values(days).every((d) => d.lines === expectedLines && d.distinct === expectedLines && d.cars === o.statusCars && d.complete === o.statusCars);
    const r: PlatformSoakResult = {
      dir, kills, orphanMs,
      log: { good: final.log.good, distinct: final.log.codes.length, repeated: final.log.repeated, other: final.log.other },
      table: { rows: final.tableRows, missing: final.missing.count, extra: final.extra.count, examples: [...final.missing.examples, ...final.extra.examples, ...final.malformedRows] },
      overspeed: { members: over.members, days: over.want.size, missing: od.missing.slice(0, 10), extra: od.extra.slice(0, 10) },
      status: { days, expectedLines },
      marts, cleanStops,
      seconds: Math.round((Date.now() - t0) / 1000),
      ok: false,
    };
    r.ok = r.table.missing === 0 && r.table.extra === 0 && final.malformedRows.length === 0 && r.log.repeated === 0 && r.log.distinct > 0
      && od.missing.length === 0 && od.extra.length === 0 && r.overspeed.members > 0 && statusOk
      && marts.emergency.equal && marts.symptom.equal && marts.driveCopy.rows === marts.driveCopy.expected
      && cleanStops.every((c) => c === 0) && orphanMs < 10_000;
    return r;
  } finally {
    endAll(data, track);
    await waitFor(() => track.every((c) => !c.pid || isGone(c.pid)), 10_000, 'the soak\'s processes to end').catch(() => {});
  }
}

/** One line per figure, for the terminal and BENCHMARKS.md. */
export function summary(r: PlatformSoakResult): string {
  const byWhat = new Map<string, number>();
  for (const k of r.kills) byWhat.set(k.what, (byWhat.get(k.what) ?? 0) + 1);
  const days = Object.entries(r.status.days).map(([d, s]) => `${d}: ${s.lines} lines, ${s.distinct} distinct, ${s.complete}/${s.cars} cars complete`).join('; ');
  return [
    `kills: ${r.kills.length} (${[...byWhat].map(([w, n]) => `${w} ${n}`).join(', ')}); children gone ≤ ${r.orphanMs} ms after a supervisor kill; clean stops exit ${r.cleanStops.join(', ')}`,
    `driving log: ${r.log.good} well-formed lines, ${r.log.distinct} distinct records, ${r.log.repeated} written twice, ${r.log.other} other lines`,
    `DriverCarInfo: ${r.table.rows} rows; ${r.table.missing} records missing, ${r.table.extra} rows not in the log${r.table.examples.length ? ` (e.g. ${r.table.examples.join(', ')})` : ''}`,
    `hot store: ${r.overspeed.members} overspeed members over ${r.overspeed.days} day(s); ${r.overspeed.missing.length} missing, ${r.overspeed.extra.length} extra${r.overspeed.missing.length + r.overspeed.extra.length ? ` (${[...r.overspeed.missing, ...r.overspeed.extra].join(', ')})` : ''}`,
    `lake status days (expected ${r.status.expectedLines} lines each): ${days || 'none'}`,
    `marts: emergency-check ${r.marts.emergency.rows} rows ${r.marts.emergency.equal ? '= oracle' : '≠ oracle'}; symptom ${r.marts.symptom.rows} rows ${r.marts.symptom.equal ? '= oracle' : '≠ oracle'}; drive copy ${r.marts.driveCopy.rows} rows of ${r.marts.driveCopy.expected}`,
    `${r.seconds} s`,
  ].join('\n');
}
