/**
 * SEED §6's symptom mart computed independently (no src/): over one day's driving records of the cars
 * whose owner is 18 or older in the car master (SEED §2.3, `|`-delimited), per car the speed-pedal and
 * brake-pedal averages, each `abnormal` when |(car average − mean of the car averages) / population
 * stddev of the car averages| > 2; the count of sharp steering (L2 L3 R2 R3), `abnormal` above 2,000.
 * Rows: `car|speed_p_symptom|break_p_symptom|steer_a_cnt|steer_p_symptom`, sorted.
 */
import { specDriving } from './spec.ts';

/** Owner ages of the car master's rows (`car_number|sex|age|…`). */
export function masterAges(lines: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of lines) {
    const f = l.split('|');
    if (f.length === 9 && /^[A-Z]\d{4}$/.test(f[0]) && /^\d+$/.test(f[2])) out.set(f[0], Number(f[2]));
  }
  return out;
}

export function expectedSymptom(drivingLines: Iterable<string>, day: string, ages: Map<string, number>): string[] {
  const per = new Map<string, { sp: number; bp: number; n: number; sharp: number }>();
  const seen = new Set<string>();
  for (const l of drivingLines) {
    const r = specDriving(l);
    if (!r || !r.date.startsWith(day) || (ages.get(r.car) ?? 0) < 18) continue;
    // One row per record (the table store keys rows by time and car).
    const key = `${r.date}-${r.car}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const c = per.get(r.car) ?? { sp: 0, bp: 0, n: 0, sharp: 0 };
    c.sp += r.speedPedal;
    c.bp += r.breakPedal;
    c.n++;
    if (r.steer === 'L2' || r.steer === 'L3' || r.steer === 'R2' || r.steer === 'R3') c.sharp++;
    per.set(r.car, c);
  }
  const flags = (avgOf: (c: { sp: number; bp: number; n: number }) => number) => {
    const avgs = [...per.values()].map(avgOf);
    const mean = avgs.reduce((a, b) => a + b, 0) / avgs.length;
    const sd = Math.sqrt(avgs.reduce((a, b) => a + (b - mean) ** 2, 0) / avgs.length);
    return new Map([...per].map(([car, c]) => [car, sd > 0 && Math.abs((avgOf(c) - mean) / sd) > 2 ? 'abnormal' : 'normal']));
  };
  const sp = flags((c) => c.sp / c.n), bp = flags((c) => c.bp / c.n);
  return [...per].map(([car, c]) => [car, sp.get(car), bp.get(car), c.sharp, c.sharp > 2000 ? 'abnormal' : 'normal'].join('|')).sort();
}
