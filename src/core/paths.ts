/**
 * The data directory (ARCHITECTURE.md "Data directory"), default `./smartcar-data`.
 *
 *   spool/car-batch-log/   logs/driver-realtime-log/   lake/collect/…   lake/warehouse/…
 *   broker/   table/   hot/   state/   dead-letter/
 */
import path from 'node:path';

export interface DataPaths {
  root: string;
  spool: string;
  driverLogDir: string;
  driverLog: string;
  lake: string;
  lakeCollect: string;
  warehouse: string;
  broker: string;
  table: string;
  hot: string;
  state: string;
  deadLetter: string;
  rules: string;
}

export function dataPaths(root: string): DataPaths {
  const r = path.resolve(root);
  return {
    root: r,
    spool: path.join(r, 'spool', 'car-batch-log'),
    driverLogDir: path.join(r, 'logs', 'driver-realtime-log'),
    driverLog: path.join(r, 'logs', 'driver-realtime-log', 'SmartCarDriverInfo.log'),
    lake: path.join(r, 'lake'),
    lakeCollect: path.join(r, 'lake', 'collect'),
    warehouse: path.join(r, 'lake', 'warehouse'),
    broker: path.join(r, 'broker'),
    table: path.join(r, 'table'),
    hot: path.join(r, 'hot'),
    state: path.join(r, 'state'),
    deadLetter: path.join(r, 'dead-letter'),
    rules: path.join(r, 'rules'),
  };
}
