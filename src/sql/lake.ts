/**
 * The lake's layout, and the SQL that reads each table from it (DuckDB dialect).
 *
 *   lake/collect/car-batch-log/wrk_date=YYYYMMDD/*.log      status lines + appended processing date
 *   lake/collect/drive-log/wrk_date=YYYYMMDD/*.csv          daily copy of DriverCarInfo
 *   lake/collect/car-master/*.txt                           CarMaster.txt, `|`-delimited
 *   lake/collect/buy-list/*.txt                             CarItemBuyList_<yyyyMM>.txt
 *   lake/collect/master2income/*.txt                        CarMaster2Income.txt, `|`-delimited, header line
 *   lake/collect/incidents/*.csv                            CarDrivingIncidentInfo.csv, header line
 *   lake/warehouse/<mart>/biz_date=YYYYMMDD/*.parquet       data marts (biz_month for the buy list)
 *
 * Files still being written end in `.tmp` and are never matched. Every column of the raw tables is a
 * string, as in the seed's Hive tables; lines that do not fit the schema are skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DRIVER_COLUMNS, DRIVER_FAMILY } from '../core/cli.ts';

export const STATUS_COLS = ['reg_date', 'car_number', 'tire_fl', 'tire_fr', 'tire_bl', 'tire_br', 'light_fl', 'light_fr', 'light_bl', 'light_br', 'engine', 'break', 'battery'];
export const MASTER_COLS = ['car_number', 'sex', 'age', 'marriage', 'region', 'job', 'car_capacity', 'car_year', 'car_model'];
export const BUYLIST_COLS = ['car_number', 'item', 'score', 'month'];
/** `SmartCar_Master2Income`: strings but for the two numbers the regression reads (as the seed's Hive table). */
export const INCOME_COLS: Record<string, string> = {
  car_number: 'VARCHAR', sex: 'VARCHAR', age: 'VARCHAR', marriage: 'VARCHAR', region: 'VARCHAR', job: 'VARCHAR',
  car_capacity: 'INTEGER', car_year: 'VARCHAR', car_model: 'VARCHAR', income: 'INTEGER',
};
/** The driving-incident training set: ten features in 0–2 and the label acciPos, in the file's order and spelling. */
export const INCIDENT_COLS: Record<string, string> = Object.fromEntries(
  ['wea', 'temp', 'hum', 'arrCar', 'timeSlot', 'acciArea', 'drvCond', 'innCond', 'carSpd', 'steeAng', 'acciPos'].map((c) => [c, 'TINYINT']),
);
/** The driving table's rows as the lake sees them: the row key, then one column per cell (`date` as `r_date`). */
export const DRIVE_COLS = ['r_key', 'r_date', ...DRIVER_COLUMNS.slice(1)];
/** The table cell behind each column of DRIVE_COLS after `r_key`. */
export const DRIVE_CELLS = DRIVER_COLUMNS.map((c) => `${DRIVER_FAMILY}:${c}`);

export const MARTS = {
  status: { table: 'managed_smartcar_status_info', partition: 'biz_date' },
  drive: { table: 'managed_smartcar_drive_info', partition: 'biz_date' },
  symptom: { table: 'managed_smartcar_symptom_info', partition: 'biz_date' },
  'emergency-check': { table: 'managed_smartcar_emergency_check_info', partition: 'biz_date' },
  buylist: { table: 'managed_smartcar_item_buylist_info', partition: 'biz_month' },
  'buylist-items': { table: 'managed_smartcar_item_list_info', partition: 'biz_month' },
} as const;
export type MartName = keyof typeof MARTS;

/**
 * Result tables of the analyses (src/ml), written like the marts under lake/warehouse/<table>/ as
 * Parquet: in `<partition>=<value>/` directories when partitioned, else directly in the table's folder.
 */
export const ANALYSIS_TABLES = {
  smartcar_item_recommend: { partition: 'biz_month' },
  smartcar_car_cluster: { partition: undefined },
  smartcar_status_score: { partition: 'biz_date' },
} as const;
export type AnalysisTable = keyof typeof ANALYSIS_TABLES;

export interface LakePaths {
  status: string;
  /** Parquet compactions of finished status days (see compact.ts). */
  statusCompact: string;
  drive: string;
  master: string;
  buylist: string;
  income: string;
  incidents: string;
  warehouse: string;
}

export function lakePaths(lake: string): LakePaths {
  return {
    status: path.join(lake, 'collect', 'car-batch-log'),
    statusCompact: path.join(lake, 'compact', 'car-batch-log'),
    drive: path.join(lake, 'collect', 'drive-log'),
    master: path.join(lake, 'collect', 'car-master'),
    buylist: path.join(lake, 'collect', 'buy-list'),
    income: path.join(lake, 'collect', 'master2income'),
    incidents: path.join(lake, 'collect', 'incidents'),
    warehouse: path.join(lake, 'warehouse'),
  };
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const typed = (cols: Record<string, string>) => `{${Object.entries(cols).map(([c, t]) => `'${c}': '${t}'`).join(', ')}}`;
const varchar = (cols: string[]) => typed(Object.fromEntries(cols.map((c) => [c, 'VARCHAR'])));

/** Files of a glob-like layout: `dir/<part>=*\/*.ext`, or `dir/*.ext` when not partitioned. */
export function hasFiles(dir: string, ext: string, partitioned: boolean): boolean {
  if (!fs.existsSync(dir)) return false;
  const ok = (d: string) => fs.readdirSync(d).some((f) => f.endsWith(ext) && !f.startsWith('.'));
  if (!partitioned) return ok(dir);
  return fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && e.name.includes('=') && !e.name.startsWith('.') && ok(path.join(dir, e.name)));
}

function csv(glob: string | string[], cols: string[] | Record<string, string>, delim: string, partitioned: boolean): string {
  const src = typeof glob === 'string' ? q(glob) : `[${glob.map(q).join(', ')}]`;
  return `read_csv(${src}, delim=${q(delim)}, header=false, columns=${Array.isArray(cols) ? varchar(cols) : typed(cols)}, auto_detect=false, ignore_errors=true, null_padding=false, strict_mode=false${partitioned ? ', hive_partitioning=true, hive_types_autocast=false' : ''})`;
}

/**
 * A status line is a record only when every field is in its domain (the conditions below); the rest is garbage.
 * Casts and IN-lists, not regular expressions: this runs on every raw line and costs 2–3× less.
 */
export const STATUS_VALID = [
  'length(reg_date) = 14', 'TRY_CAST(reg_date AS UBIGINT) IS NOT NULL',
  "length(car_number) = 5", "car_number[1] BETWEEN 'A' AND 'Z'", 'TRY_CAST(car_number[2:] AS USMALLINT) IS NOT NULL',
  ...['tire_fl', 'tire_fr', 'tire_bl', 'tire_br', 'battery'].map((c) => `TRY_CAST(${c} AS UTINYINT) <= 100`),
  ...['light_fl', 'light_fr', 'light_bl', 'light_br'].map((c) => `${c} IN ('1', '2')`),
  "engine IN ('A', 'B', 'C')", "break IN ('A', 'B', 'C')",
  // The processing date appended at collection: a line with an extra field pushes garbage here.
  'length(collect_day) = 8', 'TRY_CAST(collect_day AS UINTEGER) IS NOT NULL',
].join(' AND ');

/**
 * Compacted days come from Parquet; raw files no compaction covers (days not compacted yet, or files
 * that arrived after their day was compacted) are read and validated from the text.
 */
function statusView(p: LakePaths, statusCols: string[]): string | undefined {
  const parquet: string[] = [];
  const raw: string[] = [];
  const partitions = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => d.startsWith('wrk_date=')).sort() : []);
  const covered = new Set<string>();
  for (const part of partitions(p.statusCompact)) {
    const manifest = path.join(p.statusCompact, part, 'manifest.json');
    if (!fs.existsSync(manifest)) continue;
    parquet.push(path.join(p.statusCompact, part, 'data.parquet'));
    for (const f of (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { files: string[] }).files) covered.add(path.join(part, f));
  }
  for (const part of partitions(p.status)) {
    for (const f of fs.readdirSync(path.join(p.status, part)).sort()) {
      if (f.endsWith('.log') && !f.startsWith('.') && !covered.has(path.join(part, f))) raw.push(path.join(p.status, part, f));
    }
  }
  const sides: string[] = [];
  if (parquet.length) sides.push(`SELECT ${STATUS_COLS.join(', ')}, wrk_date FROM read_parquet([${parquet.map(q).join(', ')}], hive_partitioning=true, hive_types_autocast=false)`);
  if (raw.length) sides.push(`SELECT ${STATUS_COLS.join(', ')}, wrk_date FROM ${csv(raw, statusCols, ',', true)} WHERE ${STATUS_VALID}`);
  return sides.length ? sides.join('\nUNION ALL\n') : undefined;
}

/** The `SELECT` behind each lake table, or an empty relation of the same shape when it has no files yet. */
export function lakeViews(lake: string): Record<string, string> {
  const p = lakePaths(lake);
  const empty = (cols: string[]) => `SELECT ${cols.map((c) => `NULL::VARCHAR AS ${c}`).join(', ')} WHERE false`;
  const emptyTyped = (cols: Record<string, string>) => `SELECT ${Object.entries(cols).map(([c, t]) => `NULL::${t} AS ${c}`).join(', ')} WHERE false`;
  const statusCols = [...STATUS_COLS, 'collect_day'];
  const views: Record<string, string> = {
    smartcar_status_info: statusView(p, statusCols) ?? empty([...STATUS_COLS, 'wrk_date']),
    smartcar_master: hasFiles(p.master, '.txt', false)
      ? `SELECT * FROM ${csv(path.join(p.master, '*.txt'), MASTER_COLS, '|', false)} WHERE car_number <> 'carNum'`
      : empty(MASTER_COLS),
    smartcar_item_buylist: hasFiles(p.buylist, '.txt', false)
      ? `SELECT * FROM ${csv(path.join(p.buylist, '*.txt'), BUYLIST_COLS, ',', false)}`
      : empty(BUYLIST_COLS),
    // Typed columns: the header line fails its casts and is skipped with the other malformed lines.
    smartcar_master2income: hasFiles(p.income, '.txt', false)
      ? `SELECT * FROM ${csv(path.join(p.income, '*.txt'), INCOME_COLS, '|', false)}`
      : emptyTyped(INCOME_COLS),
    smartcar_driving_incident_info: hasFiles(p.incidents, '.csv', false)
      ? `SELECT * FROM ${csv(path.join(p.incidents, '*.csv'), INCIDENT_COLS, ',', false)}`
      : emptyTyped(INCIDENT_COLS),
    smartcar_drive_info_2: hasFiles(p.drive, '.csv', true)
      ? `SELECT ${DRIVE_COLS.join(', ')}, wrk_date FROM ${csv(path.join(p.drive, 'wrk_date=*', '*.csv'), DRIVE_COLS, ',', true)}`
      : empty([...DRIVE_COLS, 'wrk_date']),
  };
  views.smartcar_master_over18 = `SELECT * FROM smartcar_master WHERE TRY_CAST(age AS INTEGER) >= 18`;
  for (const m of Object.values(MARTS)) {
    const dir = path.join(p.warehouse, m.table);
    if (hasFiles(dir, '.parquet', true)) {
      views[m.table] = `SELECT * FROM read_parquet(${q(path.join(dir, `${m.partition}=*`, '*.parquet'))}, hive_partitioning=true, hive_types_autocast=false)`;
    }
  }
  for (const [table, { partition }] of Object.entries(ANALYSIS_TABLES)) {
    const dir = path.join(p.warehouse, table);
    if (partition ? hasFiles(dir, '.parquet', true) : hasFiles(dir, '.parquet', false)) {
      const glob = partition ? path.join(dir, `${partition}=*`, '*.parquet') : path.join(dir, '*.parquet');
      views[table] = `SELECT * FROM read_parquet(${q(glob)}${partition ? ', hive_partitioning=true, hive_types_autocast=false' : ''})`;
    }
  }
  return views;
}
