/**
 * The driving log (the real-time flow's input): `SmartCarDriverInfo.log`, appended by every car, each car's header
 * line before its first record.
 *
 *   r_date,car_number,speed_pedal,break_pedal,steer_angle,direct_light,speed,area_number
 *
 * Each car: wild with probability 10%, bound to an area group A–F at start. Per record, in order:
 * area (uniform X01–X10 of its group) · speed pedal (weights normal 30,30,10,20,5,5 / wild
 * 10,10,10,30,25,15; speed += normal 0,5,10,15,20,25 / wild 0,5,10,20,30,40; cap 250; congested
 * areas A10 B02 C04 D05 E10 F06 drop speed to 30%) · brake pedal, only when the speed pedal is 0
 * (weights normal 30,45,20,5 / wild 10,10,50,30; speed −= normal 0,10,20,30 / wild 0,5,10,20; floor 0)
 * · steering (normal F 70, others 5 / wild F 40, others 10) · indicator (normal drivers signal their
 * steering; wild ones N 60, L 20, R 20).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DRIVER_HEADER, carNumber, formatTimestamp14, localCivilNowMs, UserError, sleepUnlessAborted } from '../core/index.ts';
import { rngFor, randomSeed, weighted, type Rng } from './random.ts';
import { garbageLine } from './garbage.ts';

const CONGESTED = new Set(['A10', 'B02', 'C04', 'D05', 'E10', 'F06']);
const STEER = ['F', 'L1', 'L2', 'L3', 'R1', 'R2', 'R3'];
const LIGHTS = ['N', 'L', 'R'];

interface Profile {
  pedal: (r: Rng) => number;
  accel: number[];
  brake: (r: Rng) => number;
  decel: number[];
  steer: (r: Rng) => number;
  light?: (r: Rng) => number;
}

const NORMAL: Profile = {
  pedal: weighted([30, 30, 10, 20, 5, 5]),
  accel: [0, 5, 10, 15, 20, 25],
  brake: weighted([30, 45, 20, 5]),
  decel: [0, 10, 20, 30],
  steer: weighted([70, 5, 5, 5, 5, 5, 5]),
};
const WILD: Profile = {
  pedal: weighted([10, 10, 10, 30, 25, 15]),
  accel: [0, 5, 10, 20, 30, 40],
  brake: weighted([10, 10, 50, 30]),
  decel: [0, 5, 10, 20],
  steer: weighted([40, 10, 10, 10, 10, 10, 10]),
  light: weighted([60, 20, 20]),
};

export const WILD_SHARE = 0.1;

/** One simulated driver. */
export class Driver {
  readonly wild: boolean;
  readonly group: string;
  readonly name: string;
  speed = 0;
  private readonly p: Profile;

  constructor(readonly index: number, private readonly rng: Rng) {
    this.wild = rng() < WILD_SHARE;
    this.group = String.fromCharCode(65 + Math.floor(rng() * 6));
    this.name = carNumber(index);
    this.p = this.wild ? WILD : NORMAL;
  }

  /** The next record at the given 14-digit timestamp. */
  next(ts: string): string {
    const { rng, p } = this;
    const n = 1 + Math.floor(rng() * 10);
    const area = this.group + (n < 10 ? '0' + n : '10');
    const pedal = p.pedal(rng);
    let speed = Math.min(250, this.speed + p.accel[pedal]);
    if (CONGESTED.has(area)) speed = Math.floor(speed * 0.3);
    let brake = 0;
    if (pedal === 0) {
      brake = p.brake(rng);
      speed = Math.max(0, speed - p.decel[brake]);
    }
    this.speed = speed;
    const steer = STEER[p.steer(rng)];
    const light = p.light ? LIGHTS[p.light(rng)] : steer === 'F' ? 'N' : steer[0];
    return `${ts},${this.name},${pedal},${brake},${steer},${light},${speed},${area}`;
  }
}

export interface DriverLinesOptions {
  cars: number;
  seed: number;
  /** Epoch (civil scale) of every car's first record. */
  startMs: number;
  /** Records per car. */
  records: number;
  garbage?: number;
}

/**
 * The lines the driving log would receive, in order: round by round, every car one record per
 * simulated second (headers before each car's first record, garbage mixed in at the given rate).
 */
export function* driverLines(o: DriverLinesOptions): Generator<string> {
  const drivers = Array.from({ length: o.cars }, (_, i) => new Driver(i, rngFor(o.seed, i)));
  const garbageRng = o.garbage ? rngFor(o.seed, o.cars + 2_000_003) : undefined;
  for (let round = 0; round < o.records; round++) {
    const ts = formatTimestamp14(o.startMs + round * 1000);
    for (const d of drivers) {
      if (round === 0) yield DRIVER_HEADER;
      const line = d.next(ts);
      yield line;
      if (garbageRng && garbageRng() < o.garbage!) yield garbageLine(garbageRng, line).bytes.toString('latin1');
    }
  }
}

export interface DriverLogOptions {
  cars: number;
  out: string;
  /** Simulated seconds per wall second (default 1). */
  speedup?: number;
  startMs?: number;
  /** Stop after this many records per car. */
  records?: number;
  /** Stop after this many wall seconds. */
  durationSec?: number;
  /** Write as fast as possible, ignoring the wall clock. */
  fast?: boolean;
  seed?: number;
  garbage?: number;
  signal?: AbortSignal;
  onProgress?: (records: number) => void;
}

/**
 * Appends the driving log in real time: every car one record per simulated second, a simulated second
 * every 1/speedup wall seconds. Each write holds whole lines only, so a stop (signal, Ctrl-C) never
 * leaves a partial line.
 */
export async function runDriverLog(o: DriverLogOptions): Promise<{ records: number; lines: number; seed: number }> {
  const speedup = o.speedup ?? 1;
  if (!(speedup > 0)) throw new UserError('--speedup must be positive');
  const seed = o.seed ?? randomSeed();
  const startMs = o.startMs ?? localCivilNowMs();
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  const fd = fs.openSync(o.out, 'a');
  const drivers = Array.from({ length: o.cars }, (_, i) => new Driver(i, rngFor(seed, i)));
  const garbageRng = o.garbage ? rngFor(seed, o.cars + 2_000_003) : undefined;
  const t0 = Date.now();
  const maxRounds = o.records ?? Infinity;
  const deadline = o.durationSec !== undefined ? t0 + o.durationSec * 1000 : Infinity;
  let round = 0;
  let records = 0;
  let lines = 0;
  try {
    while (round < maxRounds && !o.signal?.aborted && Date.now() < deadline) {
      // Rounds due by now (all of them when --fast), written in one chunk of whole lines.
      const due = o.fast ? round + 64 : Math.floor(((Date.now() - t0) * speedup) / 1000) + 1;
      const until = Math.min(maxRounds, due);
      if (until <= round) {
        const wait = Math.max(1, Math.ceil(((round * 1000) / speedup) - (Date.now() - t0)));
        await sleepUnlessAborted(Math.min(wait, 1000), o.signal);
        continue;
      }
      const chunk: string[] = [];
      for (; round < until && chunk.length < 20_000; round++) {
        const ts = formatTimestamp14(startMs + round * 1000);
        for (const d of drivers) {
          if (round === 0) chunk.push(DRIVER_HEADER);
          const line = d.next(ts);
          chunk.push(line);
          records++;
          if (garbageRng && garbageRng() < o.garbage!) chunk.push(garbageLine(garbageRng, line).bytes.toString('latin1'));
        }
      }
      lines += chunk.length;
      const buf = Buffer.from(chunk.join('\n') + '\n', 'latin1');
      let off = 0;
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
      o.onProgress?.(records);
      // Let timers and signals run between chunks.
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    fs.closeSync(fd);
  }
  return { records, lines, seed };
}
