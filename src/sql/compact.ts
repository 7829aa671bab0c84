/**
 * Compaction of a finished status day (the raw-text → columnar step of a Hive warehouse): the day's
 * validated status lines are rewritten as one Parquet file, `lake/compact/car-batch-log/wrk_date=D/`,
 * with a manifest of the raw files it covers. The raw files stay (the lake's raw zone is immutable);
 * `smartcar_status_info` reads the Parquet for what is covered and the text for anything newer.
 * Compacting again is a no-op until new raw files arrive in that day.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/index.ts';
import type { Catalog } from './catalog.ts';
import { STATUS_COLS, STATUS_VALID, type LakePaths } from './lake.ts';
import { recoverPartitions, swapIn, tempPartition } from './partition.ts';

export async function compactStatusDay(cat: Catalog, p: LakePaths, day: string): Promise<{ rows: number; files: number; skipped: boolean }> {
  if (!/^\d{8}$/.test(day)) throw new UserError(`day must be yyyyMMdd, got '${day}'`);
  const rawDir = path.join(p.status, `wrk_date=${day}`);
  const files = fs.existsSync(rawDir) ? fs.readdirSync(rawDir).filter((f) => f.endsWith('.log') && !f.startsWith('.')).sort() : [];
  if (files.length === 0) throw new UserError(`no raw status files for wrk_date=${day}`);
  recoverPartitions(p.statusCompact);
  const name = `wrk_date=${day}`;
  const manifestFile = path.join(p.statusCompact, name, 'manifest.json');
  if (fs.existsSync(manifestFile)) {
    const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { files: string[]; rows: number };
    if (m.files.length === files.length && m.files.every((f, i) => f === files[i])) return { rows: m.rows, files: files.length, skipped: true };
  }
  const tmp = tempPartition(p.statusCompact, name);
  try {
    const list = files.map((f) => `'${path.join(rawDir, f).replace(/'/g, "''")}'`).join(', ');
    const cols = `{${[...STATUS_COLS, 'collect_day'].map((c) => `'${c}': 'VARCHAR'`).join(', ')}}`;
    const out = path.join(tmp, 'data.parquet');
    await cat.exec(`COPY (SELECT ${STATUS_COLS.join(', ')} FROM read_csv([${list}], delim=',', header=false, columns=${cols}, auto_detect=false,
        ignore_errors=true, null_padding=false, strict_mode=false) WHERE ${STATUS_VALID} ORDER BY car_number, reg_date)
      TO '${out.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd)`);
    const rows = Number((await cat.query(`SELECT count(*) FROM read_parquet('${out.replace(/'/g, "''")}')`)).rows[0][0]);
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify({ files, rows, compacted: new Date().toISOString() }));
    swapIn(tmp, p.statusCompact, name);
    return { rows, files: files.length, skipped: false };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
