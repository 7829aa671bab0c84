/**
 * The record formats of SEED §2, parsed in one place.
 *
 * Car status (§2.1), 13 fields, plus the processing date appended by the collect-day interceptor:
 *   reg_date,car_number,tire_fl,tire_fr,tire_bl,tire_br,light_fl,light_fr,light_bl,light_br,engine,break,battery[,wrk_date]
 * Driving record (§2.2), 8 fields:
 *   r_date,car_number,speed_pedal,break_pedal,steer_angle,direct_light,speed,area_number
 *
 * Parsers never throw: they return a record or a reason, so callers can count and dead-letter.
 */
import { parseTimestamp14 } from './time.ts';

export const STATUS_HEADER =
  'SmartCar Status Information,CarNum,TireFL,TireFR,TireBL,TireBR,LightFL,LightFR,LightBL,LightBR,EngineInfo,BreakInfo,BatteryInfo';
export const DRIVER_HEADER =
  'Driver Status Infomation,CarNum,AccStep,BrkStep,WheelStep,DirLightStep,Speed,AreaNum';

/** The collection filter of SEED §3: only lines starting with a 14-digit timestamp are records. */
export const RECORD_LINE = /^\d{14}/;

export const TOPIC = 'SmartCar-Topic';
export const DRIVER_TABLE = 'DriverCarInfo';
export const DRIVER_FAMILY = 'cf1';
export const DRIVER_COLUMNS = [
  'date', 'car_number', 'speed_pedal', 'break_pedal', 'steer_angle', 'direct_light', 'speed', 'area_number',
] as const;
export const STATUS_COLUMNS = [
  'reg_date', 'car_number', 'tire_fl', 'tire_fr', 'tire_bl', 'tire_br',
  'light_fl', 'light_fr', 'light_bl', 'light_br', 'engine', 'break', 'battery',
] as const;

export const CAR_NUMBER = /^[A-Z]\d{4}$/;
const AREA = /^[A-F](0[1-9]|10)$/;
const STEER = new Set(['F', 'L1', 'L2', 'L3', 'R1', 'R2', 'R3']);
const LIGHT = new Set(['N', 'L', 'R']);
const GRADE = new Set(['A', 'B', 'C']);

export interface DrivingRecord {
  /** `yyyyMMddHHmmss` as in the line. */
  date: string;
  carNumber: string;
  speedPedal: number;
  breakPedal: number;
  steerAngle: string;
  directLight: string;
  speed: number;
  areaNumber: string;
  /** Event time, epoch ms on the civil scale (see core/time.ts). */
  eventTime: number;
}

export interface CarStatus {
  regDate: string;
  carNumber: string;
  tires: [number, number, number, number];
  lights: [number, number, number, number];
  engine: string;
  brake: string;
  battery: number;
  /** Processing date appended at collection, when present. */
  wrkDate?: string;
  eventTime: number;
}

export type Parsed<T> = { ok: true; record: T } | { ok: false; reason: string };

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

function intIn(s: string, lo: number, hi: number): number {
  if (!/^\d{1,3}$/.test(s)) return NaN;
  const n = +s;
  return n >= lo && n <= hi ? n : NaN;
}

export function parseDrivingRecord(line: string): Parsed<DrivingRecord> {
  const f = line.split(',');
  if (f.length !== 8) return fail(`expected 8 fields, got ${f.length}`);
  const [date, carNumber, sp, bp, steerAngle, directLight, sv, areaNumber] = f;
  const eventTime = parseTimestamp14(date);
  if (Number.isNaN(eventTime)) return fail(`bad timestamp '${date.slice(0, 20)}'`);
  if (!CAR_NUMBER.test(carNumber)) return fail(`bad car number '${carNumber.slice(0, 20)}'`);
  const speedPedal = intIn(sp, 0, 5);
  if (Number.isNaN(speedPedal)) return fail(`bad speed_pedal '${sp.slice(0, 20)}'`);
  const breakPedal = intIn(bp, 0, 3);
  if (Number.isNaN(breakPedal)) return fail(`bad break_pedal '${bp.slice(0, 20)}'`);
  if (!STEER.has(steerAngle)) return fail(`bad steer_angle '${steerAngle.slice(0, 20)}'`);
  if (!LIGHT.has(directLight)) return fail(`bad direct_light '${directLight.slice(0, 20)}'`);
  const speed = intIn(sv, 0, 250);
  if (Number.isNaN(speed)) return fail(`bad speed '${sv.slice(0, 20)}'`);
  if (!AREA.test(areaNumber)) return fail(`bad area_number '${areaNumber.slice(0, 20)}'`);
  return { ok: true, record: { date, carNumber, speedPedal, breakPedal, steerAngle, directLight, speed, areaNumber, eventTime } };
}

export function formatDrivingRecord(r: Omit<DrivingRecord, 'eventTime'>): string {
  return `${r.date},${r.carNumber},${r.speedPedal},${r.breakPedal},${r.steerAngle},${r.directLight},${r.speed},${r.areaNumber}`;
}

export function parseCarStatus(line: string): Parsed<CarStatus> {
  const f = line.split(',');
  if (f.length !== 13 && f.length !== 14) return fail(`expected 13 or 14 fields, got ${f.length}`);
  const eventTime = parseTimestamp14(f[0]);
  if (Number.isNaN(eventTime)) return fail(`bad timestamp '${f[0].slice(0, 20)}'`);
  if (!CAR_NUMBER.test(f[1])) return fail(`bad car number '${f[1].slice(0, 20)}'`);
  const tires = [2, 3, 4, 5].map((i) => intIn(f[i], 0, 100));
  if (tires.some(Number.isNaN)) return fail('bad tire pressure');
  const lights = [6, 7, 8, 9].map((i) => intIn(f[i], 1, 2));
  if (lights.some(Number.isNaN)) return fail('bad light state');
  if (!GRADE.has(f[10])) return fail(`bad engine '${f[10].slice(0, 20)}'`);
  if (!GRADE.has(f[11])) return fail(`bad break '${f[11].slice(0, 20)}'`);
  const battery = intIn(f[12], 0, 100);
  if (Number.isNaN(battery)) return fail(`bad battery '${f[12].slice(0, 20)}'`);
  if (f.length === 14 && !/^\d{8}$/.test(f[13])) return fail(`bad wrk_date '${f[13].slice(0, 20)}'`);
  return {
    ok: true,
    record: {
      regDate: f[0], carNumber: f[1],
      tires: tires as CarStatus['tires'], lights: lights as CarStatus['lights'],
      engine: f[10], brake: f[11], battery, wrkDate: f[13], eventTime,
    },
  };
}

/** HBase row key of SEED §5: the 14-digit timestamp reversed as a string, `-`, the car number. */
export function driverRowKey(date: string, carNumber: string): string {
  let rev = '';
  for (let i = date.length - 1; i >= 0; i--) rev += date[i];
  return `${rev}-${carNumber}`;
}

/** Largest fleet the car-number format can name: 26 letters × 4-digit indexes 0001–9999. */
export const MAX_CARS = 26 * 9999;

/**
 * Car number of the fleet's `index`-th car (0-based): letters cycle first (A0001, B0001, … Z0001, A0002 …),
 * so any fleet of up to 2,600 cars is covered by the car master (SEED §2.3: A–Z × 0001–0100).
 */
export function carNumber(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_CARS) throw new RangeError(`car index ${index} out of range 0..${MAX_CARS - 1}`);
  return String.fromCharCode(65 + (index % 26)) + String(Math.floor(index / 26) + 1).padStart(4, '0');
}
