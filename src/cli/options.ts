/**
 * Argument parsers for commander options, shared by the commands: each checks its value and says what
 * was expected (a UserError, printed without a stack). Light on purpose: `smartcar --help` loads it.
 */
import { UserError } from '../core/errors.ts';

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

export const date8 = (v: string): string => {
  if (!/^\d{8}$/.test(v)) throw new UserError(`--date must be yyyyMMdd, got '${v}'`);
  return v;
};
