/**
 * Reference data sets of the original system: the car master, monthly item purchases, the master with
 * income (regression), and the driving-incident training set (DNN).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/index.ts';
import { between, randomSeed, rngFor, weighted, type Rng } from './random.ts';

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

export const REGIONS = ['경기', '서울', '강원', '인천', '충북', '충남', '대전', '경북', '경남', '대구', '전북', '전남', '울산', '부산', '광주', '제주', '세종'];
export const JOBS = ['무직', '회사원', '자영업', '공무원', '학생'];
export const INCOME_JOBS = ['회사원', '공무원', '개인사업', '전문직', '프리랜서', '주부', '학생'];
export const CAPACITIES = [1000, 1200, 1500, 1700, 2000, 2500, 3000, 3500];
export const MODELS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];

/** Every car number of the master: A–Z × 0001–0100. */
export function masterCarNumbers(): string[] {
  const out: string[] = [];
  for (let l = 0; l < 26; l++) for (let n = 1; n <= 100; n++) out.push(String.fromCharCode(65 + l) + String(n).padStart(4, '0'));
  return out;
}

function writeLines(file: string, lines: string[]): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  fs.writeFileSync(tmp, lines.join('\n') + '\n');
  fs.renameSync(tmp, file);
  return file;
}

/** `CarMaster.txt`: `car_number|sex|age|marriage|region|job|car_capacity|car_year|car_model`, 2,600 rows. */
export async function writeMaster(o: { outDir: string; seed?: number }): Promise<string> {
  const rng = rngFor(o.seed ?? randomSeed(), 1);
  const lines = masterCarNumbers().map((car) =>
    [car, rng() < 0.5 ? '남' : '여', between(rng, 15, 70), rng() < 0.5 ? '기혼' : '미혼', pick(rng, REGIONS), pick(rng, JOBS),
      pick(rng, CAPACITIES), between(rng, 2000, 2016), pick(rng, MODELS)].join('|'));
  return writeLines(path.join(o.outDir, 'CarMaster.txt'), lines);
}

/** `CarItemBuyList_<yyyyMM>.txt`: `car_number,item,score,month`, 100,000 rows by default. */
export async function writeBuyList(o: { outDir: string; month: string; seed?: number; rows?: number }): Promise<string> {
  if (!/^\d{4}(0[1-9]|1[0-2])$/.test(o.month)) throw new UserError(`--month must be yyyyMM, got '${o.month}'`);
  const rng = rngFor(o.seed ?? randomSeed(), 2);
  const cars = masterCarNumbers();
  const lines: string[] = [];
  for (let i = 0; i < (o.rows ?? 100_000); i++) {
    lines.push(`${pick(rng, cars)},Item-${String(between(rng, 1, 30)).padStart(3, '0')},${between(rng, 1, 5)},${o.month}`);
  }
  return writeLines(path.join(o.outDir, `CarItemBuyList_${o.month}.txt`), lines);
}

/** A standard normal draw (Box–Muller). */
function normal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * `CarMaster2Income.txt`: header `carNum|sex|age|marriage|region|job|capacity|year|type|income`.
 * capacity 1000–5500 in steps of 500 around 3000 (normal, σ 1000); income = capacity × (1 + 1..3),
 * plus 100–1000 one time in five.
 */
export async function writeIncome(o: { outDir: string; seed?: number; rows?: number }): Promise<string> {
  const rng = rngFor(o.seed ?? randomSeed(), 3);
  const cars = masterCarNumbers();
  const lines = ['carNum|sex|age|marriage|region|job|capacity|year|type|income'];
  for (let i = 0; i < (o.rows ?? cars.length); i++) {
    const capacity = Math.min(5500, Math.max(1000, Math.round((3000 + normal(rng) * 1000) / 500) * 500));
    let income = capacity * (1 + between(rng, 1, 3));
    if (rng() < 0.2) income += between(rng, 100, 1000);
    lines.push([cars[i % cars.length], rng() < 0.5 ? '남' : '여', between(rng, 20, 70), rng() < 0.5 ? '기혼' : '미혼', pick(rng, REGIONS),
      pick(rng, INCOME_JOBS), capacity, between(rng, 2000, 2016), pick(rng, MODELS), income].join('|'));
  }
  return writeLines(path.join(o.outDir, 'CarMaster2Income.txt'), lines);
}

export const INCIDENT_FEATURES = ['wea', 'temp', 'hum', 'arrCar', 'timeSlot', 'acciArea', 'drvCond', 'innCond', 'carSpd', 'steeAng'] as const;
const PROFILE: Record<(typeof INCIDENT_FEATURES)[number], (r: Rng) => number> = {
  temp: weighted([60, 35, 5]), hum: weighted([60, 35, 5]), steeAng: weighted([60, 35, 5]),
  wea: weighted([50, 40, 10]), arrCar: weighted([50, 40, 10]), timeSlot: weighted([50, 40, 10]),
  acciArea: weighted([30, 30, 40]), drvCond: weighted([30, 30, 40]), innCond: weighted([30, 30, 40]), carSpd: weighted([30, 30, 40]),
};

/** The incident label of the original's training set: the features' sum, +5 when any of four is 2; > 15 → 2, ≥ 13 → 1, else 0. */
export function incidentLabel(f: Record<string, number>): number {
  let sum = INCIDENT_FEATURES.reduce((s, k) => s + f[k], 0);
  if (f.acciArea === 2 || f.drvCond === 2 || f.innCond === 2 || f.carSpd === 2) sum += 5;
  return sum > 15 ? 2 : sum >= 13 ? 1 : 0;
}

/** `CarDrivingIncidentInfo.csv`: ten features in 0–2 and the label `acciPos`; 200,000 rows by default, as the original. */
export async function writeIncidents(o: { outDir: string; seed?: number; rows?: number }): Promise<string> {
  const rng = rngFor(o.seed ?? randomSeed(), 4);
  const lines = [[...INCIDENT_FEATURES, 'acciPos'].join(',')];
  for (let i = 0; i < (o.rows ?? 200_000); i++) {
    const f: Record<string, number> = {};
    for (const k of INCIDENT_FEATURES) f[k] = PROFILE[k](rng);
    lines.push([...INCIDENT_FEATURES.map((k) => f[k]), incidentLabel(f)].join(','));
  }
  return writeLines(path.join(o.outDir, 'CarDrivingIncidentInfo.csv'), lines);
}
