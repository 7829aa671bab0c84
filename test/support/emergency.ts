/**
 * SEED §6's emergency-check rules computed independently, straight over raw status lines: the reference
 * the emergency mart is compared with. One row per car with at least one symptom:
 * `car|Tire Check|Light Check|Engine Check|Brake Check|Battery Check` (empty where the rule did not fire).
 */
import { parseCarStatus } from '../../src/core/records.ts';

export function expectedEmergency(lines: string[], opts: { retryWithoutLastField?: boolean } = {}): string[] {
  const per = new Map<string, { tires: number[][]; light: boolean; engine: boolean; brake: boolean; battery: number[] }>();
  for (const line of lines) {
    let parsed = parseCarStatus(line);
    // Lake lines carry the appended processing date; a garbage line may then parse without it.
    if (!parsed.ok && opts.retryWithoutLastField) parsed = parseCarStatus(line.slice(0, line.lastIndexOf(',')));
    if (!parsed.ok) continue;
    const r = parsed.record;
    const c = per.get(r.carNumber) ?? { tires: [[], [], [], []], light: false, engine: false, brake: false, battery: [] };
    r.tires.forEach((t, i) => c.tires[i].push(t));
    c.light ||= r.lights.includes(2);
    c.engine ||= r.engine === 'C';
    c.brake ||= r.brake === 'C';
    c.battery.push(r.battery);
    per.set(r.carNumber, c);
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [...per].flatMap(([car, c]) => {
    const checks = [c.tires.some((t) => avg(t) < 80) ? 'Tire Check' : '', c.light ? 'Light Check' : '', c.engine ? 'Engine Check' : '', c.brake ? 'Brake Check' : '', avg(c.battery) < 30 ? 'Battery Check' : ''];
    return checks.some(Boolean) ? [[car, ...checks].join('|')] : [];
  }).sort();
}
