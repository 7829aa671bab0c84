/**
 * Argument parsers for commander options, shared by the commands: each checks its value and says what
 * was expected (a UserError, printed without a stack). Light on purpose: `smartcar --help` loads it.
 */
import { UserError } from './errors.ts';

export const int = (name: string, lo: number, hi: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UserError(`${name} must be an integer ${lo}..${hi}, got '${v}'`);
  return n;
};

export const positive = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UserError(`${name} must be a positive number, got '${v}'`);
  return n;
};

/** A rate of garbage lines per record, 0..1. */
export const rate = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new UserError(`--garbage must be a rate between 0 and 1, got '${v}'`);
  return n;
};

/**
 * The one validator of calendar dates, for every `--date`, `--day`, `--from`/`--to` and `--month`:
 * the digits must name a real day (20240231 and 20241301 are refused), in 1970..9999.
 */
export function checkDate8(v: string, flag = '--date'): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (!m) throw new UserError(`${flag} must be a date yyyyMMdd, got '${v}'`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const t = new Date(ms);
  if (y < 1970 || mo < 1 || mo > 12 || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) {
    throw new UserError(`${flag} '${v}' is not a calendar date (yyyyMMdd${mo < 1 || mo > 12 ? `: there is no month ${m[2]}` : `: ${m[1]}-${m[2]} has no day ${m[3]}`})`);
  }
  return v;
}

export function checkMonth6(v: string, flag = '--month'): string {
  const m = /^(\d{4})(\d{2})$/.exec(v);
  if (!m || Number(m[1]) < 1970 || Number(m[2]) < 1 || Number(m[2]) > 12) throw new UserError(`${flag} must be a month yyyyMM (01..12), got '${v}'`);
  return v;
}

export const date8 = (v: string): string => checkDate8(v, '--date');
export const day8 = (flag: string) => (v: string): string => checkDate8(v, flag);
export const month6 = (flag: string) => (v: string): string => checkMonth6(v, flag);
