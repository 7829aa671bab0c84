/**
 * The labelled status set of the analysis stage: the original's 14 features of a status-mart row, in the seed's
 * order (the order `predict` takes them), and the scoring rule that labels a row.
 *
 * Encoding (the "feature mapping" saved with every model): numeric features are their integer
 * values; a categorical one is the index of its value in `values`. Scaling (Spark's MinMaxScaler)
 * is left out on purpose: it is monotone per feature, so a tree's splits, and so its predictions,
 * are the same with or without it.
 *
 * Scoring rule (exactly the original's), in tenths so that sums are exact:
 *   capacity < 1500 → −3, < 2000 → −2, else −1        car_year < 2005 → −3, < 2010 → −2, else −1
 *   model B, D, F or H → −3, else 0                      each tire < 10 → 1, < 20 → 2, < 40 → 4, else 5
 *   each light 2 → 0, else 5                             engine and break A → 10, B → 5, C → 0
 *   battery < 20 → 2, < 40 → 4, < 60 → 6, else 10        total < 60 → 비정상 (abnormal), else 정상 (normal)
 */
import { UserError } from '../../core/index.ts';

export interface FeatureSpec {
  name: string;
  kind: 'numeric' | 'categorical';
  values?: string[];
}

const num = (name: string): FeatureSpec => ({ name, kind: 'numeric' });
const GRADES = ['A', 'B', 'C'];

export const STATUS_FEATURES: FeatureSpec[] = [
  num('car_capacity'), num('car_year'), { name: 'car_model', kind: 'categorical', values: ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] },
  num('tire_fl'), num('tire_fr'), num('tire_bl'), num('tire_br'),
  num('light_fl'), num('light_fr'), num('light_bl'), num('light_br'),
  { name: 'engine', kind: 'categorical', values: GRADES }, { name: 'break', kind: 'categorical', values: GRADES }, num('battery'),
];

/** Class 0 and 1, as the seed names them; English in parentheses for the terminal. */
export const STATUS_CLASSES = ['정상', '비정상'];
export const CLASS_NAMES = ['정상 (normal)', '비정상 (abnormal)'];

export const STATUS_TABLE = 'managed_smartcar_status_info';

const sqlQ = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A feature's SQL over the mart's string columns; NULL when the value is not in the mapping. */
function featureSql(f: FeatureSpec): string {
  if (f.kind === 'categorical') return `CASE ${f.name} ${f.values!.map((v, i) => `WHEN ${sqlQ(v)} THEN ${i}`).join(' ')} END`;
  return `TRY_CAST(${f.name} AS INTEGER)`;
}

export const LABEL_SQL = `CASE WHEN (
    (CASE WHEN c < 1500 THEN -3 WHEN c < 2000 THEN -2 ELSE -1 END)
  + (CASE WHEN y < 2005 THEN -3 WHEN y < 2010 THEN -2 ELSE -1 END)
  + (CASE WHEN car_model IN ('B', 'D', 'F', 'H') THEN -3 ELSE 0 END)
  + ${['tfl', 'tfr', 'tbl', 'tbr'].map((t) => `(CASE WHEN ${t} < 10 THEN 1 WHEN ${t} < 20 THEN 2 WHEN ${t} < 40 THEN 4 ELSE 5 END)`).join('\n  + ')}
  + ${['light_fl', 'light_fr', 'light_bl', 'light_br'].map((l) => `(CASE WHEN TRY_CAST(${l} AS INTEGER) = 2 THEN 0 ELSE 5 END)`).join(' + ')}
  + (CASE engine WHEN 'A' THEN 10 WHEN 'B' THEN 5 ELSE 0 END) + (CASE break WHEN 'A' THEN 10 WHEN 'B' THEN 5 ELSE 0 END)
  + (CASE WHEN bat < 20 THEN 2 WHEN bat < 40 THEN 4 WHEN bat < 60 THEN 6 ELSE 10 END)
  ) < 60 THEN 1 ELSE 0 END`;

/** The car number as an integer (letter index × 10000 + number), to carry it in an Int32 column. */
export const CAR_ID_SQL = `(ascii(car_number[1]) - 65) * 10000 + TRY_CAST(car_number[2:] AS INTEGER)`;
export const carNumberOf = (id: number) => String.fromCharCode(65 + Math.floor(id / 10000)) + String(id % 10000).padStart(4, '0');

/**
 * The labelled set of some days of the status mart, one row per status record: the 14 features,
 * `label`, `key` (a hash of car_number and reg_date: the row's identity), `car`. Rows with a value
 * outside the mapping are left out (counted by `labelledCountSql`).
 */
export function labelledSql(days: string[], features: FeatureSpec[] = STATUS_FEATURES): string {
  const inner = `SELECT *, TRY_CAST(car_capacity AS INTEGER) AS c, TRY_CAST(car_year AS INTEGER) AS y,
      TRY_CAST(tire_fl AS INTEGER) AS tfl, TRY_CAST(tire_fr AS INTEGER) AS tfr, TRY_CAST(tire_bl AS INTEGER) AS tbl,
      TRY_CAST(tire_br AS INTEGER) AS tbr, TRY_CAST(battery AS INTEGER) AS bat
    FROM ${STATUS_TABLE} WHERE biz_date IN (${days.map(sqlQ).join(', ')})`;
  const cols = [...features.map((f) => `${featureSql(f)} AS ${f.name}`), `${LABEL_SQL} AS label`,
    `(hash(car_number, reg_date) % 2147483648)::INTEGER AS key`, `${CAR_ID_SQL} AS car`];
  return `SELECT * FROM (SELECT ${cols.join(',\n  ')} FROM (${inner})) WHERE COLUMNS(*) IS NOT NULL`;
}

export function dayCountSql(days: string[]): string {
  return `SELECT count(*) FROM ${STATUS_TABLE} WHERE biz_date IN (${days.map(sqlQ).join(', ')})`;
}

/** One car in the seed's order (`2000 2000 A 80 80 80 80 1 1 1 1 A B 50`) → encoded features. */
export function parseCar(args: string[], where = 'predict', features: FeatureSpec[] = STATUS_FEATURES): number[] {
  if (args.length !== features.length) {
    throw new UserError(`${where}: a car is ${features.length} values in the seed's order (${features.map((f) => f.name).join(' ')}), got ${args.length}`);
  }
  return args.map((a, i) => {
    const f = features[i];
    if (f.kind === 'categorical') {
      const j = f.values!.indexOf(a);
      if (j < 0) throw new UserError(`${where}: argument ${i + 1} (${f.name}) must be one of ${f.values!.join(' ')}, got '${a}'`);
      return j;
    }
    if (!/^-?\d+$/.test(a) || !Number.isSafeInteger(Number(a))) throw new UserError(`${where}: argument ${i + 1} (${f.name}) must be an integer, got '${a}'`);
    return Number(a);
  });
}
