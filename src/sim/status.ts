/**
 * The car status day file (the batch flow's input): `SmartCarStatusInfo_<yyyyMMdd>.txt`, one record per car every
 * 4 s from 00:00:00 to 23:59:56 (21,600 per car), each car's header line just before its first record,
 * cars interleaved within each 4-second tick as concurrent writers would be.
 *
 *   reg_date,car_number,tire_fl,tire_fr,tire_bl,tire_br,light_fl,light_fr,light_bl,light_br,engine,break,battery
 *
 * Weights: tire 80–100 w80 · 70–79 w19.9998 · 0–69 w0.0002 (sticky); light 1 w99.9998 · 2 w0.0002
 * (sticky); engine/break A w80 · B w19.9998 · C w0.0002 (sticky); battery 80–100 w90 · 50–79 w9.9998 ·
 * 0–49 w0.0002 (sticky). Sticky: once a value enters its failure range the car keeps it all day.
 *
 * The file is written under a hidden temporary name and renamed when complete, so a spooling
 * collector never picks up a half-written day.
 */
import fs from 'node:fs';
import path from 'node:path';
import { STATUS_HEADER, carNumber, parseDate8, UserError } from '../core/index.ts';
import { between, rngFor, type Rng } from './random.ts';
import { ByteSink } from './sink.ts';
import { garbageLine } from './garbage.ts';

export const RECORDS_PER_CAR_PER_DAY = 86_400 / 4;
const FAIL = 0.0002 / 100;

/** One car's status state: its random stream and its sticky failures (-1 = not failed). */
export class CarStatusState {
  readonly tires = [-1, -1, -1, -1];
  readonly lights = [false, false, false, false];
  engineC = false;
  brakeC = false;
  battery = -1;
  constructor(readonly rng: Rng) {}

  tire(i: number): number {
    if (this.tires[i] >= 0) return this.tires[i];
    const r = this.rng();
    if (r < 0.8) return between(this.rng, 80, 100);
    if (r < 1 - FAIL) return between(this.rng, 70, 79);
    return (this.tires[i] = between(this.rng, 0, 69));
  }

  light(i: number): number {
    if (this.lights[i]) return 2;
    if (this.rng() < 1 - FAIL) return 1;
    this.lights[i] = true;
    return 2;
  }

  /** 65 'A', 66 'B', 67 'C' — engine when `brake` is false. */
  grade(brake: boolean): number {
    if (brake ? this.brakeC : this.engineC) return 67;
    const r = this.rng();
    if (r < 0.8) return 65;
    if (r < 1 - FAIL) return 66;
    if (brake) this.brakeC = true;
    else this.engineC = true;
    return 67;
  }

  batteryLevel(): number {
    if (this.battery >= 0) return this.battery;
    const r = this.rng();
    if (r < 0.9) return between(this.rng, 80, 100);
    if (r < 1 - FAIL) return between(this.rng, 50, 79);
    return (this.battery = between(this.rng, 0, 49));
  }
}

export interface StatusDayOptions {
  /** Aborts the writing; the partial file is removed. */
  signal?: AbortSignal;
  date: string;
  cars: number;
  outDir: string;
  seed?: number;
  garbage?: number;
  onProgress?: (done: number, total: number) => void;
}

export function statusFileName(date: string): string {
  return `SmartCarStatusInfo_${date}.txt`;
}

export async function writeStatusDay(o: StatusDayOptions): Promise<{ file: string; records: number; bytes: number; seed: number }> {
  const dayMs = parseDate8(o.date);
  if (Number.isNaN(dayMs)) throw new UserError(`--date must be a valid yyyyMMdd, got '${o.date}'`);
  const seed = o.seed ?? (await import('./random.ts')).randomSeed();
  fs.mkdirSync(o.outDir, { recursive: true });
  const file = path.join(o.outDir, statusFileName(o.date));
  const tmp = path.join(o.outDir, `.${statusFileName(o.date)}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  const sink = new ByteSink(fd);
  // Streams: 0..cars-1 the cars, cars the interleaving, cars+1 the garbage.
  const cars = Array.from({ length: o.cars }, (_, i) => new CarStatusState(rngFor(seed, i)));
  const names = Array.from({ length: o.cars }, (_, i) => Buffer.from(`,${carNumber(i)},`));
  const header = Buffer.from(STATUS_HEADER + '\n');
  const order = Uint32Array.from({ length: o.cars }, (_, i) => i);
  const shuffle = rngFor(seed, o.cars + 1_000_003);
  const garbageRng = o.garbage ? rngFor(seed, o.cars + 2_000_003) : undefined;
  const date = o.date;
  let records = 0;
  const total = o.cars * RECORDS_PER_CAR_PER_DAY;
  let complete = false;
  let checked = 0;
  try {
    for (let tick = 0; tick < RECORDS_PER_CAR_PER_DAY; tick++) {
      const s = tick * 4;
      const hh = (s / 3600) | 0, mm = ((s % 3600) / 60) | 0, ss = s % 60;
      const ts = Buffer.from(`${date}${hh < 10 ? '0' : ''}${hh}${mm < 10 ? '0' : ''}${mm}${ss < 10 ? '0' : ''}${ss}`);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(shuffle() * (i + 1));
        const t = order[i]; order[i] = order[j]; order[j] = t;
      }
      for (let k = 0; k < order.length; k++) {
        const c = order[k];
        const car = cars[c];
        sink.reserve(200);
        if (tick === 0) sink.bytesOf(header);
        const start = sink.pos;
        sink.bytesOf(ts);
        sink.bytesOf(names[c]);
        for (let t = 0; t < 4; t++) { sink.small(car.tire(t)); sink.byte(44); }
        for (let l = 0; l < 4; l++) { sink.byte(car.light(l) === 2 ? 50 : 49); sink.byte(44); }
        sink.byte(car.grade(false)); sink.byte(44);
        sink.byte(car.grade(true)); sink.byte(44);
        sink.small(car.batteryLevel());
        sink.byte(10);
        records++;
        if (garbageRng && garbageRng() < o.garbage!) {
          const good = sink.pending().subarray(start, sink.pos - 1).toString('latin1');
          const g = garbageLine(garbageRng, good).bytes;
          sink.reserve(g.length + 1);
          sink.bytesOf(g);
          sink.byte(10);
        }
      }
      if ((tick & 255) === 0) o.onProgress?.(records, total);
      if (o.signal && records - checked >= 100_000) {
        // Let a Ctrl-C in: it ends the file's writing and removes the partial file.
        checked = records;
        await new Promise((r) => setImmediate(r));
        if (o.signal.aborted) throw new UserError(`interrupted: ${file} not written (the partial file was removed)`, 130);
      }
    }
    sink.flush();
    fs.fsyncSync(fd);
    complete = true;
  } finally {
    fs.closeSync(fd);
    if (!complete) fs.rmSync(tmp, { force: true });
  }
  fs.renameSync(tmp, file);
  o.onProgress?.(records, total);
  return { file, records, bytes: sink.bytes, seed };
}

