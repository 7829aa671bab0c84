/**
 * The test suite's own reading of the record formats of SEED §2, written from the spec and nothing
 * else: it imports nothing from src/, so a bug in which lines src/ accepts, or in its civil-time
 * conversion, shows up as a difference against these oracles instead of being shared by them.
 *
 *   §2.1 car status, 13 comma-separated fields
 *     reg_date,car_number,tire_fl,tire_fr,tire_bl,tire_br,light_fl,light_fr,light_bl,light_br,engine,break,battery
 *     tires and battery are integers 0–100, lights 1 or 2, engine and break A, B or C.
 *     In the lake (SEED §3) the collect-day interceptor appends `,<yyyyMMdd>`: 14 fields.
 *   §2.2 driving record, 8 comma-separated fields
 *     r_date,car_number,speed_pedal,break_pedal,steer_angle,direct_light,speed,area_number
 *     speed_pedal 0–5, break_pedal 0–3, steer_angle F L1 L2 L3 R1 R2 R3, direct_light N L R,
 *     speed 0–250 (capped at 250, floored at 0), area_number one of A–F then 01–10.
 *   Car numbers: a capital letter A–Z and 4 digits. Timestamps `yyyyMMddHHmmss`, a real calendar time.
 *
 * Civil time is counted here with plain arithmetic (days from civil, proleptic Gregorian), not with
 * Date, so the oracle's windows do not share the code under test's conversion either.
 */

export interface SpecDriving {
  date: string;
  car: string;
  speedPedal: number;
  breakPedal: number;
  steer: string;
  light: string;
  speed: number;
  area: string;
  /** Seconds since 1970-01-01 00:00:00 on the civil scale (every civil day has 86,400 s). */
  second: number;
}

export interface SpecStatus {
  regDate: string;
  car: string;
  tires: number[];
  lights: number[];
  engine: string;
  brake: string;
  battery: number;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days from 1970-01-01 to y-m-d (proleptic Gregorian), by counting whole years and months. */
function daysFromCivil(y: number, m: number, d: number): number {
  // Years: 365 per year plus the leap days between 1970 and y (exclusive).
  const leapsBefore = (yy: number) => Math.floor((yy - 1) / 4) - Math.floor((yy - 1) / 100) + Math.floor((yy - 1) / 400);
  let days = (y - 1970) * 365 + leapsBefore(y) - leapsBefore(1970);
  for (let i = 1; i < m; i++) days += MONTH_DAYS[i - 1] + (i === 2 && isLeap(y) ? 1 : 0);
  return days + d - 1;
}

/** Civil seconds of a `yyyyMMddHHmmss` timestamp, or undefined when it is not a real calendar time. */
export function civilSecond(ts: string): number | undefined {
  if (ts.length !== 14) return undefined;
  for (let i = 0; i < 14; i++) if (ts[i] < '0' || ts[i] > '9') return undefined;
  const n = (a: number, b: number) => Number(ts.slice(a, b));
  const y = n(0, 4), mo = n(4, 6), d = n(6, 8), h = n(8, 10), mi = n(10, 12), s = n(12, 14);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  if (d > MONTH_DAYS[mo - 1] + (mo === 2 && isLeap(y) ? 1 : 0)) return undefined;
  return daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
}

/** `yyyyMMddHHmmss` of a civil second (the inverse of civilSecond), for tests that build records. */
export function civilTimestamp(second: number): string {
  let days = Math.floor(second / 86_400);
  let rest = second - days * 86_400;
  let y = 1970;
  for (;;) {
    const len = isLeap(y) ? 366 : 365;
    if (days < len) break;
    days -= len;
    y++;
  }
  let m = 1;
  for (;;) {
    const len = MONTH_DAYS[m - 1] + (m === 2 && isLeap(y) ? 1 : 0);
    if (days < len) break;
    days -= len;
    m++;
  }
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const mi = Math.floor(rest / 60);
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${p(y, 4)}${p(m)}${p(days + 1)}${p(h)}${p(mi)}${p(rest - mi * 60)}`;
}

function integerIn(s: string, lo: number, hi: number): number | undefined {
  if (s.length === 0 || s.length > 3) return undefined;
  for (const c of s) if (c < '0' || c > '9') return undefined;
  const v = Number(s);
  return v >= lo && v <= hi ? v : undefined;
}

function isCarNumber(s: string): boolean {
  if (s.length !== 5 || s[0] < 'A' || s[0] > 'Z') return false;
  for (let i = 1; i < 5; i++) if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

const STEERS = ['F', 'L1', 'L2', 'L3', 'R1', 'R2', 'R3'];
const LIGHTS = ['N', 'L', 'R'];
const GRADES = ['A', 'B', 'C'];
const AREAS = new Set<string>();
for (const g of 'ABCDEF') for (let i = 1; i <= 10; i++) AREAS.add(g + String(i).padStart(2, '0'));

/** A driving record of SEED §2.2, or undefined for anything else (headers, garbage). */
export function specDriving(line: string): SpecDriving | undefined {
  const f = line.split(',');
  if (f.length !== 8) return undefined;
  const second = civilSecond(f[0]);
  if (second === undefined || !isCarNumber(f[1])) return undefined;
  const speedPedal = integerIn(f[2], 0, 5), breakPedal = integerIn(f[3], 0, 3), speed = integerIn(f[6], 0, 250);
  if (speedPedal === undefined || breakPedal === undefined || speed === undefined) return undefined;
  if (!STEERS.includes(f[4]) || !LIGHTS.includes(f[5]) || !AREAS.has(f[7])) return undefined;
  return { date: f[0], car: f[1], speedPedal, breakPedal, steer: f[4], light: f[5], speed, area: f[7], second };
}

/** A car status record of SEED §2.1 (13 fields), or undefined. */
export function specStatus(line: string): SpecStatus | undefined {
  const f = line.split(',');
  if (f.length !== 13) return undefined;
  if (civilSecond(f[0]) === undefined || !isCarNumber(f[1])) return undefined;
  const tires = f.slice(2, 6).map((x) => integerIn(x, 0, 100));
  const lights = f.slice(6, 10).map((x) => integerIn(x, 1, 2));
  const battery = integerIn(f[12], 0, 100);
  if (tires.includes(undefined) || lights.includes(undefined) || battery === undefined) return undefined;
  if (!GRADES.includes(f[10]) || !GRADES.includes(f[11])) return undefined;
  return { regDate: f[0], car: f[1], tires: tires as number[], lights: lights as number[], engine: f[10], brake: f[11], battery };
}

/** A lake status line (SEED §3: the record, `,`, the 8-digit processing date), or undefined. */
export function specLakeStatus(line: string): (SpecStatus & { wrkDate: string }) | undefined {
  const cut = line.lastIndexOf(',');
  const wrkDate = line.slice(cut + 1);
  if (cut < 0 || wrkDate.length !== 8 || civilSecond(wrkDate + '000000') === undefined) return undefined;
  const r = specStatus(line.slice(0, cut));
  return r && { ...r, wrkDate };
}

/** HBase row key of SEED §5: the timestamp reversed as a string, `-`, the car number. */
export function specRowKey(date: string, car: string): string {
  return `${[...date].reverse().join('')}-${car}`;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
