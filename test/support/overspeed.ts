/**
 * An independent computation of the seed's overspeed rule (SEED §5), written without the CEP engine
 * and without src/ (records are read by test/support/spec.ts): per car, 30-second event-time windows
 * aligned to multiples of 30 s; a car whose window average speed is above the threshold yields
 * `SADD <day of its last event> <car>-<timestamp of its last event>`.
 */
import { specDriving, specRowKey } from './spec.ts';

export { waitFor } from './spec.ts';

export function expectedOverspeed(lines: Iterable<string>, threshold = 80, periodMs = 30_000): Map<string, Set<string>> {
  const periodS = periodMs / 1000;
  const windows = new Map<string, { sum: number; n: number; last: string }>();
  for (const line of lines) {
    const r = specDriving(line);
    if (!r) continue;
    const key = `${r.car}|${Math.floor(r.second / periodS)}`;
    const w = windows.get(key) ?? { sum: 0, n: 0, last: r.date };
    w.sum += r.speed;
    w.n++;
    w.last = r.date;
    windows.set(key, w);
  }
  const days = new Map<string, Set<string>>();
  for (const [key, w] of windows) {
    if (w.sum <= threshold * w.n) continue;
    const car = key.split('|')[0];
    const day = w.last.slice(0, 8);
    if (!days.has(day)) days.set(day, new Set());
    days.get(day)!.add(`${car}-${w.last}`);
  }
  return days;
}

/** Distinct well-formed records of a log, keyed `<timestamp>-<car>`. */
export function distinctRecords(lines: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const line of lines) {
    const r = specDriving(line);
    if (r) out.add(`${r.date}-${r.car}`);
  }
  return out;
}

/** Distinct well-formed records of a log, as DriverCarInfo row keys (SEED §5). */
export function expectedRowKeys(lines: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const line of lines) {
    const r = specDriving(line);
    if (r) out.add(specRowKey(r.date, r.car));
  }
  return out;
}
