/**
 * The lake's layout, and the SQL that reads each table from it (DuckDB dialect).
 *
 *   lake/collect/car-batch-log/wrk_date=YYYYMMDD/*.log      status lines + appended processing date
 *   lake/collect/drive-log/wrk_date=YYYYMMDD/*.csv          daily copy of DriverCarInfo
 *   lake/collect/car-master/*.txt                           CarMaster.txt, `|`-delimited
 *   lake/collect/buy-list/*.txt                             CarItemBuyList_<yyyyMM>.txt
 *   lake/warehouse/<mart>/biz_date=YYYYMMDD/*.parquet       data marts (biz_month for the buy list)
 *
 * Files still being written end in `.tmp` and are never matched. Every column of the raw tables is a
 * string, as in the seed's Hive tables; lines that do not fit the schema are skipped.
 */
import fs from 'node:fs';
import path from 'node:path';

export const STATUS_COLS = ['reg_date', 'car_number', 'tire_fl', 'tire_fr', 'tire_bl', 'tire_br', 'light_fl', 'light_fr', 'light_bl', 'light_br', 'engine', 'break', 'battery'];
export const MASTER_COLS = ['car_number', 'sex', 'age', 'marriage', 'region', 'job', 'car_capacity', 'car_year', 'car_model'];
export const BUYLIST_COLS = ['car_number', 'item', 'score', 'month'];
export const DRIVE_COLS = ['r_key', 'r_date', 'car_number', 'speed_pedal', 'break_pedal', 'steer_angle', 'direct_light', 'speed', 'area_number'];

export const MARTS = {
  status: { table: 'managed_smartcar_status_info', partition: 'biz_date' },
  drive: { table: 'managed_smartcar_drive_info', partition: 'biz_date' },
  symptom: { table: 'managed_smartcar_symptom_info', partition: 'biz_date' },
  'emergency-check': { table: 'managed_smartcar_emergency_check_info', partition: 'biz_date' },
  buylist: { table: 'managed_smartcar_item_buylist_info', partition: 'biz_month' },
  'buylist-items': { table: 'managed_smartcar_item_list_info', partition: 'biz_month' },
} as const;
export type MartName = keyof typeof MARTS;

export interface LakePaths {
  status: string;
  drive: string;
  master: string;
  buylist: string;
  warehouse: string;
}

export function lakePaths(lake: string): LakePaths {
  return {
    status: path.join(lake, 'collect', 'car-batch-log'),
    drive: path.join(lake, 'collect', 'drive-log'),
    master: path.join(lake, 'collect', 'car-master'),
    buylist: path.join(lake, 'collect', 'buy-list'),
    warehouse: path.join(lake, 'warehouse'),
  };
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const varchar = (cols: string[]) => `{${cols.map((c) => `'${c}': 'VARCHAR'`).join(', ')}}`;

/** Files of a glob-like layout: `dir/<part>=*\/*.ext`, or `dir/*.ext` when not partitioned. */
export function hasFiles(dir: string, ext: string, partitioned: boolean): boolean {
  if (!fs.existsSync(dir)) return false;
  const ok = (d: string) => fs.readdirSync(d).some((f) => f.endsWith(ext) && !f.startsWith('.'));
  if (!partitioned) return ok(dir);
  return fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && e.name.includes('=') && !e.name.startsWith('.') && ok(path.join(dir, e.name)));
}

function csv(glob: string, cols: string[], delim: string, partitioned: boolean): string {
  return `read_csv(${q(glob)}, delim=${q(delim)}, header=false, columns=${varchar(cols)}, auto_detect=false, ignore_errors=true, null_padding=false, strict_mode=false${partitioned ? ', hive_partitioning=true, hive_types_autocast=false' : ''})`;
}

/** A status line is a record only when every field is in its domain (SEED §2.1); the rest is garbage. */
const STATUS_VALID = [
  "regexp_full_match(reg_date, '[0-9]{14}')",
  "regexp_full_match(car_number, '[A-Z][0-9]{4}')",
  ...['tire_fl', 'tire_fr', 'tire_bl', 'tire_br', 'battery'].map((c) => `regexp_full_match(${c}, '[0-9]{1,3}')`),
  ...['light_fl', 'light_fr', 'light_bl', 'light_br'].map((c) => `${c} IN ('1', '2')`),
  "engine IN ('A', 'B', 'C')", "break IN ('A', 'B', 'C')",
  // The processing date appended at collection: a line with an extra field pushes garbage here.
  "regexp_full_match(collect_day, '[0-9]{8}')",
].join(' AND ');

/** The `SELECT` behind each lake table, or an empty relation of the same shape when it has no files yet. */
export function lakeViews(lake: string): Record<string, string> {
  const p = lakePaths(lake);
  const empty = (cols: string[]) => `SELECT ${cols.map((c) => `NULL::VARCHAR AS ${c}`).join(', ')} WHERE false`;
  const statusCols = [...STATUS_COLS, 'collect_day'];
  const views: Record<string, string> = {
    smartcar_status_info: hasFiles(p.status, '.log', true)
      ? `SELECT ${STATUS_COLS.join(', ')}, wrk_date FROM ${csv(path.join(p.status, 'wrk_date=*', '*.log'), statusCols, ',', true)} WHERE ${STATUS_VALID}`
      : empty([...STATUS_COLS, 'wrk_date']),
    smartcar_master: hasFiles(p.master, '.txt', false)
      ? `SELECT * FROM ${csv(path.join(p.master, '*.txt'), MASTER_COLS, '|', false)} WHERE car_number <> 'carNum'`
      : empty(MASTER_COLS),
    smartcar_item_buylist: hasFiles(p.buylist, '.txt', false)
      ? `SELECT * FROM ${csv(path.join(p.buylist, '*.txt'), BUYLIST_COLS, ',', false)}`
      : empty(BUYLIST_COLS),
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
  return views;
}
