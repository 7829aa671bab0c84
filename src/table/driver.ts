/** The original's HBase table `DriverCarInfo`: family `cf1`, the driving record's 8 columns. */
import { DRIVER_FAMILY, DRIVER_TABLE, type DrivingRecord } from '../core/index.ts';
import type { TableStore } from './types.ts';

export async function ensureDriverTable(store: TableStore): Promise<void> {
  await store.createTable({ name: DRIVER_TABLE, families: [DRIVER_FAMILY], maxVersions: 3 });
}

/** `String(n)` of 0–255, made once (pedals and speeds are small integers; the stream converts 3 per row). */
const SMALL = Array.from({ length: 256 }, (_, i) => String(i));
const str = (n: number) => (Number.isInteger(n) && n >= 0 && n < 256 ? SMALL[n] : String(n));

export function drivingRecordCells(r: DrivingRecord): Record<string, string> {
  return {
    'cf1:date': r.date,
    'cf1:car_number': r.carNumber,
    'cf1:speed_pedal': str(r.speedPedal),
    'cf1:break_pedal': str(r.breakPedal),
    'cf1:steer_angle': r.steerAngle,
    'cf1:direct_light': r.directLight,
    'cf1:speed': str(r.speed),
    'cf1:area_number': r.areaNumber,
  };
}
