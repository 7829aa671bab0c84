/**
 * SEED §6's emergency-check rules computed independently, straight over status lines read by the
 * suite's own parser (test/support/spec.ts, written from SEED §2.1 and §3, not from src/): the
 * reference the emergency mart is compared with. One row per car with at least one symptom:
 * `car|Tire Check|Light Check|Engine Check|Brake Check|Battery Check` (empty where the rule did not fire).
 *
 * `raw` lines are the device's 13-field records; `lake` lines carry the processing date the collector
 * appended (14 fields, the last an 8-digit date). A line that is not a record in that form is garbage.
 */
import { specLakeStatus, specStatus, type SpecStatus } from './spec.ts';

export function expectedEmergency(lines: string[], form: 'raw' | 'lake' = 'raw'): string[] {
  const per = new Map<string, { tires: number[][]; light: boolean; engine: boolean; brake: boolean; battery: number[] }>();
  for (const line of lines) {
    const r: SpecStatus | undefined = form === 'lake' ? specLakeStatus(line) : specStatus(line);
    if (!r) continue;
    const c = per.get(r.car) ?? { tires: [[], [], [], []], light: false, engine: false, brake: false, battery: [] };
    r.tires.forEach((t, i) => c.tires[i].push(t));
    c.light ||= r.lights.includes(2);
    c.engine ||= r.engine === 'C';
    c.brake ||= r.brake === 'C';
    c.battery.push(r.battery);
    per.set(r.car, c);
  }
  // Averages compared as sums (sum < 80·n) so no floating-point division decides a borderline car.
  const below = (xs: number[], limit: number) => xs.reduce((a, b) => a + b, 0) < limit * xs.length;
  return [...per].flatMap(([car, c]) => {
    const checks = [c.tires.some((t) => below(t, 80)) ? 'Tire Check' : '', c.light ? 'Light Check' : '', c.engine ? 'Engine Check' : '', c.brake ? 'Brake Check' : '', below(c.battery, 30) ? 'Battery Check' : ''];
    return checks.some(Boolean) ? [[car, ...checks].join('|')] : [];
  }).sort();
}
