/** `smartcar load master|buylist FILE`: reference data into the lake (validated, placed atomically). */
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths } from '../core/paths.ts';
import { UserError, checkInputFile } from '../core/errors.ts';
import { CAR_NUMBER } from '../core/records.ts';
import { lakePaths } from './lake.ts';

const MASTER_LINE = /^[A-Z]\d{4}\|[^|]*\|\d{1,3}\|[^|]*\|[^|]*\|[^|]*\|\d+\|\d{4}\|[A-Z]$/;
const BUY_LINE = /^([A-Z]\d{4}),Item-\d{3},[1-5],(\d{6})$/;

export function loadReference(kind: 'master' | 'buylist', file: string, dataDir: string): { file: string; lines: number; bad: number } {
  if (!fs.existsSync(file)) throw new UserError(`${file} does not exist`);
  checkInputFile(file, kind === 'master' ? 'the master file' : 'the buy list file');
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const re = kind === 'master' ? MASTER_LINE : BUY_LINE;
  const bad = lines.filter((l, i) => !(re.test(l) || (kind === 'master' && i === 0 && l.startsWith('carNum')))).length;
  if (lines.length === 0 || bad === lines.length) {
    throw new UserError(`${file} has no ${kind === 'master' ? 'car master (car_number|sex|age|marriage|region|job|car_capacity|car_year|car_model)' : 'purchase (car_number,item,score,month)'} lines`);
  }
  if (kind === 'master' && !lines.some((l) => CAR_NUMBER.test(l.slice(0, 5)))) throw new UserError(`${file}: no car numbers`);
  const p = lakePaths(dataPaths(dataDir).lake);
  const dir = kind === 'master' ? p.master : p.buylist;
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, kind === 'master' ? 'CarMaster.txt' : path.basename(file).replace(/(\.txt)?$/, '.txt'));
  const tmp = path.join(dir, `.${path.basename(dest)}.tmp`);
  fs.copyFileSync(file, tmp);
  fs.renameSync(tmp, dest);
  return { file: dest, lines: lines.length, bad };
}
