/**
 * The record formats of the car logs (status, driving) and the reference files, parsed in one place.
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

export const TOPIC = 'SmartCar-Topic';
export const DRIVER_TABLE = 'DriverCarInfo';
export const DRIVER_FAMILY = 'cf1';
/** The driving table's columns (family DRIVER_FAMILY), in the record's order. */
export const DRIVER_COLUMNS = [
  'date', 'car_number', 'speed_pedal', 'break_pedal', 'steer_angle', 'direct_light', 'speed', 'area_number',
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

type Parsed<T> = { ok: true; record: T } | { ok: false; reason: string };

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

/** Row key of the driving table (as the original's HBase key, which spreads writes): the 14-digit timestamp reversed as a string, `-`, the car number. */
export function driverRowKey(date: string, carNumber: string): string {
  let rev = '';
  for (let i = date.length - 1; i >= 0; i--) rev += date[i];
  return `${rev}-${carNumber}`;
}

/** Largest fleet the car-number format can name: 26 letters × 4-digit indexes 0001–9999. */
export const MAX_CARS = 26 * 9999;

/**
 * Car number of the fleet's `index`-th car (0-based): letters cycle first (A0001, B0001, … Z0001, A0002 …),
 * so any fleet of up to 2,600 cars is covered by the car master (A–Z × 0001–0100).
 */
export function carNumber(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_CARS) throw new RangeError(`car index ${index} out of range 0..${MAX_CARS - 1}`);
  return String.fromCharCode(65 + (index % 26)) + String(Math.floor(index / 26) + 1).padStart(4, '0');
}

// ---------------------------------------------------------------------------------------------------
// The stream's hot path: the same parse straight from the bus record's bytes.

/**
 * The steering and indicator values by their bytes, in arrays (looked up for every record): one byte c at
 * [c], two bytes at [256 + c1 × 256 + c2], so that no two-byte value lands on a one-byte one.
 */
const STEER_BY_CODE: (string | undefined)[] = new Array(256 + 65_536).fill(undefined);
for (const s of STEER) STEER_BY_CODE[s.length === 1 ? s.charCodeAt(0) : 256 + s.charCodeAt(0) * 256 + s.charCodeAt(1)] = s;
const LIGHT_BY_CODE: (string | undefined)[] = new Array(256).fill(undefined);
for (const s of LIGHT) LIGHT_BY_CODE[s.charCodeAt(0)] = s;
/** Interned area numbers: `A01` … `F10`, indexed by (letter − 'A') × 11 + number. */
const AREAS: string[] = [];
for (let l = 0; l < 6; l++) for (let n = 1; n <= 10; n++) AREAS[l * 11 + n] = String.fromCharCode(65 + l) + String(n).padStart(2, '0');
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const C0 = 48, COMMA = 44;
/** Scratch: where the 3rd–7th fields end (the parser is synchronous, so one array serves every call). */
const ENDS = new Int32Array(5);
/** Car numbers by letter × 10,000 + digits (`[A-Z]\d{4}`), filled as cars are seen. */
const CAR_NUMBERS: (string | undefined)[] = new Array(26 * 10_000).fill(undefined);
/** One-entry cache: a fleet reports in rounds, so consecutive records mostly share their timestamp. */
const lastDate = { bytes: new Uint8Array(14), str: '', ms: NaN };

/** Digits b[s..e) (1–3 of them) as a number, or -1. */
function smallInt(b: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len < 1 || len > 3) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = b[i] - C0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The event time of 14 ASCII digits at b[0..14), with parseTimestamp14's rules; NaN when invalid. */
function digitAt(b: Uint8Array, i: number): number {
  const x = b[i] - C0;
  return x >= 0 && x <= 9 ? x : NaN;
}

function timestamp14(b: Uint8Array): number {
  const y = digitAt(b, 0) * 1000 + digitAt(b, 1) * 100 + digitAt(b, 2) * 10 + digitAt(b, 3);
  const mo = digitAt(b, 4) * 10 + digitAt(b, 5), day = digitAt(b, 6) * 10 + digitAt(b, 7), h = digitAt(b, 8) * 10 + digitAt(b, 9), mi = digitAt(b, 10) * 10 + digitAt(b, 11), s = digitAt(b, 12) * 10 + digitAt(b, 13);
  // NaN (a non-digit) fails every comparison below; years < 1000 take the reference path (Date.UTC maps 0–99 to 19xx).
  if (!(y >= 1000 && mo >= 1 && mo <= 12 && day >= 1 && h <= 23 && mi <= 59 && s <= 59)) return NaN;
  const leap = mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0);
  if (!(day <= DAYS_IN_MONTH[mo - 1] + (leap ? 1 : 0))) return NaN;
  return Date.UTC(y, mo - 1, day, h, mi, s);
}

/**
 * `parseDrivingRecord` straight from a record's UTF-8 bytes, without decoding the line or splitting it:
 * the same record for every line the reference accepts, and for anything else the reference's own
 * answer (the rare bad line is decoded and handed to `parseDrivingRecord`, so reasons are identical).
 */
export function parseDrivingRecordBytes(b: Buffer): Parsed<DrivingRecord> {
  const len = b.length;
  // Fixed-width head: 14-digit timestamp, comma, 5-char car number, comma.
  if (len < 31 || b[14] !== COMMA || b[20] !== COMMA) return parseDrivingRecord(b.toString('utf8'));
  let date: string, eventTime: number;
  const cache = lastDate.bytes;
  let same = lastDate.str !== '';
  for (let i = 0; same && i < 14; i++) same = cache[i] === b[i];
  if (same) {
    date = lastDate.str;
    eventTime = lastDate.ms;
  } else {
    eventTime = timestamp14(b);
    if (Number.isNaN(eventTime)) return parseDrivingRecord(b.toString('utf8'));
    date = b.toString('latin1', 0, 14);
    for (let i = 0; i < 14; i++) cache[i] = b[i];
    lastDate.str = date;
    lastDate.ms = eventTime;
  }
  const c0 = b[15];
  if (c0 < 65 || c0 > 90) return parseDrivingRecord(b.toString('utf8'));
  let carIndex = c0 - 65;
  for (let i = 16; i < 20; i++) {
    const d = b[i] - C0;
    if (d < 0 || d > 9) return parseDrivingRecord(b.toString('utf8'));
    carIndex = carIndex * 10 + d;
  }
  // One string per car, made once: CEP and the redelivery check key their maps by it.
  let carNumber = CAR_NUMBERS[carIndex];
  if (carNumber === undefined) CAR_NUMBERS[carIndex] = carNumber = b.toString('latin1', 15, 20);
  // The six remaining fields: positions of the next commas (exactly 5 more, none after the last field).
  let p = 21;
  const ends = ENDS;
  for (let k = 0; k < 5; k++) {
    let q = p;
    while (q < len && b[q] !== COMMA) q++;
    if (q >= len) return parseDrivingRecord(b.toString('utf8'));
    ends[k] = q;
    p = q + 1;
  }
  for (let q = p; q < len; q++) if (b[q] === COMMA) return parseDrivingRecord(b.toString('utf8'));
  const speedPedal = smallInt(b, 21, ends[0]);
  if (speedPedal < 0 || speedPedal > 5) return parseDrivingRecord(b.toString('utf8'));
  const breakPedal = smallInt(b, ends[0] + 1, ends[1]);
  if (breakPedal < 0 || breakPedal > 3) return parseDrivingRecord(b.toString('utf8'));
  const sa = ends[1] + 1, saLen = ends[2] - sa;
  const steerAngle = saLen === 1 ? STEER_BY_CODE[b[sa]] : saLen === 2 ? STEER_BY_CODE[256 + b[sa] * 256 + b[sa + 1]] : undefined;
  if (steerAngle === undefined) return parseDrivingRecord(b.toString('utf8'));
  const directLight = ends[3] - ends[2] === 2 ? LIGHT_BY_CODE[b[ends[2] + 1]] : undefined;
  if (directLight === undefined) return parseDrivingRecord(b.toString('utf8'));
  const speed = smallInt(b, ends[3] + 1, ends[4]);
  if (speed < 0 || speed > 250) return parseDrivingRecord(b.toString('utf8'));
  const a = ends[4] + 1;
  if (len - a !== 3) return parseDrivingRecord(b.toString('utf8'));
  const letter = b[a] - 65, n1 = b[a + 1] - C0, n2 = b[a + 2] - C0;
  const num = n1 * 10 + n2;
  if (letter < 0 || letter > 5 || n1 < 0 || n1 > 1 || n2 < 0 || n2 > 9 || num < 1 || num > 10) return parseDrivingRecord(b.toString('utf8'));
  const areaNumber = AREAS[letter * 11 + num];
  return { ok: true, record: { date, carNumber, speedPedal, breakPedal, steerAngle, directLight, speed, areaNumber, eventTime } };
}
