/** The original's HBase table `DriverCarInfo`: family `cf1`, the driving record's 8 columns. */
import { DRIVER_COLUMNS, DRIVER_FAMILY, DRIVER_TABLE, driverRowKey, type DrivingRecord } from '../core/index.ts';
import type { PutRow, RowBatch, TableStore } from './types.ts';

export async function ensureDriverTable(store: TableStore): Promise<void> {
  await store.createTable({ name: DRIVER_TABLE, families: [DRIVER_FAMILY], maxVersions: 3 });
}

/** `String(n)` of 0–255, made once (pedals and speeds are small integers; the stream converts 3 per row). */
const SMALL = Array.from({ length: 256 }, (_, i) => String(i));
export const smallIntString = (n: number) => (Number.isInteger(n) && n >= 0 && n < 256 ? SMALL[n] : String(n));

export function drivingRecordCells(r: DrivingRecord): Record<string, string> {
  return {
    'cf1:date': r.date,
    'cf1:car_number': r.carNumber,
    'cf1:speed_pedal': smallIntString(r.speedPedal),
    'cf1:break_pedal': smallIntString(r.breakPedal),
    'cf1:steer_angle': r.steerAngle,
    'cf1:direct_light': r.directLight,
    'cf1:speed': smallIntString(r.speed),
    'cf1:area_number': r.areaNumber,
  };
}

/** The driver table's column names, in drivingRecordCells' order. */
export const DRIVER_CELLS: readonly string[] = DRIVER_COLUMNS.map((c) => `${DRIVER_FAMILY}:${c}`);

/**
 * A stream batch's driving rows as the parsed records, without a row object per record: the LMDB store
 * encodes them straight into its writer's job (lmdb-rows.ts encodeDrivingRows, `npm run bench:stream`),
 * any other store asks for rows(). Row keys are driverRowKey's.
 */
export class DrivingRows implements RowBatch {
  readonly records: DrivingRecord[] = [];

  get length(): number {
    return this.records.length;
  }

  push(r: DrivingRecord): void {
    this.records.push(r);
  }

  rows(): PutRow[] {
    const rows: PutRow[] = [];
    // Row keys start with the reversed timestamp, which consecutive records mostly share.
    let keyDate = '', keyHead = '';
    for (const r of this.records) {
      if (r.date !== keyDate) {
        keyDate = r.date;
        keyHead = driverRowKey(r.date, '');
      }
      rows.push({ row: keyHead + r.carNumber, cells: drivingRecordCells(r) });
    }
    return rows;
  }
}
