/**
 * The scoring rule of SEED §7, written from the spec (not from src/), in plain numbers: a status
 * row → '정상' (normal) or '비정상' (abnormal). Sums are kept in tenths so 6.0 is exact.
 */
export interface StatusRow {
  car_capacity: number; car_year: number; car_model: string;
  tires: number[]; lights: number[]; engine: string; brake: string; battery: number;
}

export function ruleClass(r: StatusRow): '정상' | '비정상' {
  let t = 0;
  t += r.car_capacity < 1500 ? -3 : r.car_capacity < 2000 ? -2 : -1;
  t += r.car_year < 2005 ? -3 : r.car_year < 2010 ? -2 : -1;
  t += ['B', 'D', 'F', 'H'].includes(r.car_model) ? -3 : 0;
  for (const x of r.tires) t += x < 10 ? 1 : x < 20 ? 2 : x < 40 ? 4 : 5;
  for (const l of r.lights) t += l === 2 ? 0 : 5;
  for (const g of [r.engine, r.brake]) t += g === 'A' ? 10 : g === 'B' ? 5 : 0;
  t += r.battery < 20 ? 2 : r.battery < 40 ? 4 : r.battery < 60 ? 6 : 10;
  return t < 60 ? '비정상' : '정상';
}

/** The seed's order: capacity year model tire×4 light×4 engine break battery. */
export function ruleClassOfArgs(a: string[]): '정상' | '비정상' {
  return ruleClass({
    car_capacity: +a[0], car_year: +a[1], car_model: a[2], tires: a.slice(3, 7).map(Number), lights: a.slice(7, 11).map(Number),
    engine: a[11], brake: a[12], battery: +a[13],
  });
}
