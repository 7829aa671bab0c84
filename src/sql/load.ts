/** `smartcar load master|buylist|income|incidents FILE`: reference data into the lake (validated, placed atomically). */
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths, UserError, checkInputFile, CAR_NUMBER } from '../core/index.ts';
import { lakePaths, type LakePaths } from './lake.ts';

const MASTER_LINE = /^[A-Z]\d{4}\|[^|]*\|\d{1,3}\|[^|]*\|[^|]*\|[^|]*\|\d+\|\d{4}\|[A-Z]$/;
const BUY_LINE = /^([A-Z]\d{4}),Item-\d{3},[1-5],(\d{6})$/;

export type ReferenceKind = 'master' | 'buylist' | 'income' | 'incidents';

/** Per kind: what a line looks like, the header it may open with, where it goes, and its name there. */
const KINDS: Record<ReferenceKind, { line: RegExp; header?: string; what: string; dest: (p: LakePaths, file: string) => string }> = {
  master: {
    line: MASTER_LINE, header: 'carNum', what: 'car master (car_number|sex|age|marriage|region|job|car_capacity|car_year|car_model)',
    dest: (p) => path.join(p.master, 'CarMaster.txt'),
  },
  buylist: {
    line: BUY_LINE, what: 'purchase (car_number,item,score,month)',
    dest: (p, file) => path.join(p.buylist, path.basename(file).replace(/(\.txt)?$/, '.txt')),
  },
  income: {
    line: /^[A-Z]\d{4}\|[^|]*\|\d{1,3}\|[^|]*\|[^|]*\|[^|]*\|\d+\|\d{4}\|[A-Z]\|\d+$/, header: 'carNum|',
    what: 'master-with-income (carNum|sex|age|marriage|region|job|capacity|year|type|income)',
    dest: (p) => path.join(p.income, 'CarMaster2Income.txt'),
  },
  incidents: {
    line: /^[0-2](,[0-2]){10}$/, header: 'wea,',
    what: 'driving-incident (wea,temp,hum,arrCar,timeSlot,acciArea,drvCond,innCond,carSpd,steeAng,acciPos with values 0-2)',
    dest: (p) => path.join(p.incidents, 'CarDrivingIncidentInfo.csv'),
  },
};

export function loadReference(kind: ReferenceKind, file: string, dataDir: string): { file: string; lines: number; bad: number } {
  checkInputFile(file, `the ${kind} file`);
  const spec = KINDS[kind];
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  const bad = lines.filter((l, i) => !(spec.line.test(l) || (spec.header !== undefined && i === 0 && l.startsWith(spec.header)))).length;
  const records = lines.length - bad - (spec.header !== undefined && lines[0]?.startsWith(spec.header) ? 1 : 0);
  if (records <= 0) throw new UserError(`${file} has no ${spec.what} lines`);
  if (kind === 'master' && !lines.some((l) => CAR_NUMBER.test(l.slice(0, 5)))) throw new UserError(`${file}: no car numbers`);
  const dest = spec.dest(lakePaths(dataPaths(dataDir).lake), file);
  const dir = path.dirname(dest);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(dest)}.tmp`);
  fs.copyFileSync(file, tmp);
  fs.renameSync(tmp, dest);
  return { file: dest, lines: lines.length, bad };
}
