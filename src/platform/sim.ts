/**
 * The simulator as a platform component (`smartcar sim --data DIR`): appends the driving log the
 * agent tails (`<data>/logs/driver-realtime-log/SmartCarDriverInfo.log`) at the seed's rate × speed-up,
 * and drops a status day file into the spool (`<data>/spool/car-batch-log`) for every simulated day.
 *
 * It resumes: `<data>/state/sim.json` keeps the seed, fleet and simulated start; on restart the
 * last well-formed line of the log says which (second, car) was written last, the generators are
 * replayed up to it, and writing continues with the next record — so the log after a kill -9 holds
 * the same records as an uninterrupted run (a torn last line is closed with a newline and becomes one
 * malformed line, which the pipeline dead-letters).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DRIVER_HEADER, formatDate8, formatTimestamp14, localCivilNowMs, parseDate8, parseTimestamp14, dataPaths, UserError, counter, createLogger, sleepUnlessAborted } from '../core/index.ts';
import { Driver, garbageLine, randomSeed, rngFor, writeStatusDay } from '../sim/index.ts';
import type { Rng } from '../sim/index.ts';

const log = createLogger('sim');
const recordsTotal = counter('smartcar_sim_records_total', 'Driving records appended to the log');
const statusDaysTotal = counter('smartcar_sim_status_days_total', 'Status day files written to the spool');

export interface SimState {
  seed: number;
  cars: number;
  /** Simulated epoch (civil scale) of round 0. */
  startMs: number;
  garbage: number;
  /** Cars in each status day file. */
  statusCars: number;
  /** Days whose status file is in the spool already. */
  statusDays: string[];
}

/** What the simulated fleet looks like (`smartcar sim` and `smartcar up` take the same flags). */
export interface FleetOptions {
  cars: number;
  speedup: number;
  seed?: number;
  /** yyyyMMdd of the first simulated day (default: now). */
  date?: string;
  garbage?: number;
  statusCars?: number;
}

export interface SimOptions extends FleetOptions {
  data: string;
  /** No status day files. */
  noStatus?: boolean;
  signal?: AbortSignal;
}

/** A line exactly as the generator writes it; any malformed variant fails this. */
const GOOD_LINE = /^(\d{14}),([A-Z])(\d{4}),[0-5],[0-3],(?:F|[LR][1-3]),[NLR],\d{1,3},[A-F](?:0[1-9]|10)$/;

export function carIndex(letter: string, digits: string): number {
  return (Number(digits) - 1) * 26 + (letter.charCodeAt(0) - 65);
}

/** (round, car) of the last well-formed line of the log, closing a torn last line first. */
export function resumePoint(file: string, startMs: number): { round: number; car: number } | undefined {
  if (!fs.existsSync(file)) return undefined;
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return undefined;
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 10) fs.writeSync(fd, '\n', size);
    // Scan backwards in blocks; an oversize garbage line may be long, so keep going until a good line.
    let end = size;
    let carry = '';
    while (end > 0) {
      const start = Math.max(0, end - 256 * 1024);
      const buf = Buffer.alloc(end - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      const text = buf.toString('latin1') + carry;
      const lines = text.split('\n');
      carry = start > 0 ? lines.shift()! : '';
      for (let i = lines.length - 1; i >= 0; i--) {
        const m = GOOD_LINE.exec(lines[i]);
        if (!m) continue;
        const round = Math.round((parseTimestamp14(m[1]) - startMs) / 1000);
        return { round, car: carIndex(m[2], m[3]) };
      }
      if (start === 0 && carry) break;
      end = start;
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

function loadState(file: string): SimState | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as SimState;
  } catch {
    return undefined;
  }
}

function saveState(file: string, s: SimState): void {
  const tmp = file + '.tmp';
  fs.writeFileSync(tmp, JSON.stringify(s, null, 1));
  fs.renameSync(tmp, file);
}

/**
 * The car master (cars A–Z × 0001–0100, as the original's) the status and driving marts join with: simulated
 * with the fleet's seed and loaded into the lake once, unless one is there already (`smartcar load master`).
 */
export async function ensureCarMaster(data: string, seed: number): Promise<void> {
  const { lakePaths, loadReference } = await import('../sql/index.ts');
  const dir = lakePaths(dataPaths(data).lake).master;
  if (fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.txt') && !f.startsWith('.'))) return;
  const { writeMaster } = await import('../sim/index.ts');
  const tmp = fs.mkdtempSync(path.join(dataPaths(data).state, 'master-'));
  try {
    const file = await writeMaster({ outDir: tmp, seed });
    const r = loadReference('master', file, data);
    log.info({ file: r.file, lines: r.lines }, 'car master loaded into the lake');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function runSim(o: SimOptions): Promise<void> {
  const p = dataPaths(o.data);
  fs.mkdirSync(p.state, { recursive: true });
  fs.mkdirSync(p.driverLogDir, { recursive: true });
  fs.mkdirSync(p.spool, { recursive: true });
  const stateFile = path.join(p.state, 'sim.json');
  let st = loadState(stateFile);
  if (st && (st.cars !== o.cars || (o.seed !== undefined && st.seed !== o.seed))) {
    process.stderr.write(`sim: resuming the fleet of ${st.cars} cars (seed ${st.seed}) recorded in ${stateFile}; --cars/--seed apply to a new data directory\n`);
  }
  st ??= {
    seed: o.seed ?? randomSeed(),
    cars: o.cars,
    startMs: o.date ? parseDate8(o.date) : Math.floor(localCivilNowMs() / 1000) * 1000,
    garbage: o.garbage ?? 0,
    statusCars: Math.min(o.cars, o.statusCars ?? 100),
    statusDays: [],
  };
  if (!Number.isFinite(st.startMs) || !Number.isInteger(st.seed) || !(st.cars > 0)) {
    throw new UserError(`${stateFile} is damaged (start ${String(st.startMs)}, seed ${String(st.seed)}, cars ${String(st.cars)}); move it away to start a new simulation`);
  }
  saveState(stateFile, st);
  const state = st;

  await ensureCarMaster(o.data, state.seed);

  // Where to continue: the record after the last one in the log.
  const at = resumePoint(p.driverLog, state.startMs);
  const drivers = Array.from({ length: state.cars }, (_, i) => new Driver(i, rngFor(state.seed, i)));
  const garbageRng: Rng | undefined = state.garbage ? rngFor(state.seed, state.cars + 2_000_003) : undefined;
  const step = (d: Driver, ts: string, out?: string[]) => {
    const line = d.next(ts);
    out?.push(line);
    if (garbageRng && garbageRng() < state.garbage) {
      const g = garbageLine(garbageRng, line).bytes.toString('latin1');
      out?.push(g);
    }
  };
  let round = 0;
  let firstCar = 0;
  if (at) {
    const t0 = Date.now();
    for (let r = 0; r <= at.round; r++) {
      const ts = formatTimestamp14(state.startMs + r * 1000);
      const upto = r === at.round ? at.car + 1 : state.cars;
      for (let c = 0; c < upto; c++) step(drivers[c], ts);
    }
    round = at.round;
    firstCar = at.car + 1;
    if (firstCar >= state.cars) { round++; firstCar = 0; }
    log.info({ round, car: firstCar, replayMs: Date.now() - t0 }, 'resuming the driving log');
  }
  process.stdout.write(`sim: ${state.cars} cars, seed ${state.seed}, from ${formatTimestamp14(state.startMs + round * 1000)} at ×${o.speedup}${at ? ' (resumed)' : ''}\n`);

  // Status days run beside the driving log, one at a time.
  let statusBusy: Promise<void> = Promise.resolve();
  const statusDay = (day: string) => {
    if (o.noStatus || state.statusDays.includes(day)) return;
    state.statusDays.push(day);
    statusBusy = statusBusy.then(async () => {
      const r = await writeStatusDay({ date: day, cars: state.statusCars, outDir: p.spool, seed: state.seed + Number(day) });
      saveState(stateFile, state);
      statusDaysTotal.inc();
      log.info({ file: r.file, records: r.records }, 'status day written to the spool');
    }).catch((err: unknown) => {
      state.statusDays = state.statusDays.filter((d) => d !== day);
      log.error({ day, err: (err as Error).message }, 'status day failed; retried at the next day change');
    });
  };
  statusDay(formatDate8(state.startMs + round * 1000));

  const fd = fs.openSync(p.driverLog, 'a');
  const wallStart = Date.now();
  const roundStart = round;
  try {
    while (!o.signal?.aborted) {
      const due = roundStart + Math.floor(((Date.now() - wallStart) * o.speedup) / 1000) + 1;
      if (due <= round) {
        const wait = Math.max(1, Math.ceil(((round - roundStart) * 1000) / o.speedup - (Date.now() - wallStart)));
        await sleepUnlessAborted(Math.min(wait, 1000), o.signal);
        continue;
      }
      const chunk: string[] = [];
      let records = 0;
      for (; round < due && chunk.length < 20_000; round++) {
        const ms = state.startMs + round * 1000;
        const ts = formatTimestamp14(ms);
        if (ms % 86_400_000 === 0) statusDay(formatDate8(ms));
        for (let c = firstCar; c < state.cars; c++) {
          if (round === 0) chunk.push(DRIVER_HEADER);
          step(drivers[c], ts, chunk);
          records++;
        }
        firstCar = 0;
      }
      const buf = Buffer.from(chunk.join('\n') + '\n', 'latin1');
      let off = 0;
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
      recordsTotal.inc(records);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    fs.closeSync(fd);
  }
  await statusBusy;
}
