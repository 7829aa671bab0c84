/**
 * An independent computation of the seed's overspeed rule (SEED §5), written without the CEP engine:
 * per car, 30-second event-time windows aligned to multiples of 30 s; a car whose window average speed
 * is above the threshold yields `SADD <day of its last event> <car>-<timestamp of its last event>`.
 */
import { parseDrivingRecord } from '../../src/core/records.ts';

export function expectedOverspeed(lines: Iterable<string>, threshold = 80, periodMs = 30_000): Map<string, Set<string>> {
  const windows = new Map<string, { sum: number; n: number; last: string }>();
  for (const line of lines) {
    const p = parseDrivingRecord(line);
    if (!p.ok) continue;
    const r = p.record;
    const key = `${r.carNumber}|${Math.floor(r.eventTime / periodMs)}`;
    const w = windows.get(key) ?? { sum: 0, n: 0, last: r.date };
    w.sum += r.speed;
    w.n++;
    w.last = r.date;
    windows.set(key, w);
  }
  const days = new Map<string, Set<string>>();
  for (const [key, w] of windows) {
    if (w.sum / w.n <= threshold) continue;
    const car = key.split('|')[0];
    const day = w.last.slice(0, 8);
    if (!days.has(day)) days.set(day, new Set());
    days.get(day)!.add(`${car}-${w.last}`);
  }
  return days;
}

/** Distinct well-formed records of a log, keyed as the table store keys them. */
export function distinctRecords(lines: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const line of lines) {
    const p = parseDrivingRecord(line);
    if (p.ok) out.add(`${p.record.date}-${p.record.carNumber}`);
  }
  return out;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
