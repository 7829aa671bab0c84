/**
 * The table-store port (the HBase role): tables with column families; rows of
 * `family:qualifier → value`, each cell versioned by timestamp. Rows are ordered by key (byte order).
 */

export interface TableDescriptor {
  name: string;
  families: string[];
  /** Versions kept per cell; default 1. */
  maxVersions?: number;
}

/** A row as returned by get/scan: the newest value of each column, keyed `family:qualifier`. */
export interface Row {
  row: string;
  cells: Record<string, string>;
}

export interface ColumnFilter {
  /** `family:qualifier` */
  column: string;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | '~';
  value: string;
  /** Numeric comparison (default: numeric when both sides parse as numbers). */
  numeric?: boolean;
}

export interface ScanOptions {
  /** Inclusive start row. */
  start?: string;
  /** Exclusive stop row. */
  stop?: string;
  prefix?: string;
  /** All must match (AND). A row lacking a filtered column does not match. */
  filters?: ColumnFilter[];
  limit?: number;
  reverse?: boolean;
}

export interface PutRow {
  row: string;
  cells: Record<string, string>;
}

/**
 * Rows held in another form than PutRow objects (the stream's DrivingRows, driver.ts, keep its parsed
 * records): a store with a faster path for the form takes it, any other asks for rows().
 */
export interface RowBatch {
  readonly length: number;
  rows(): PutRow[];
}

export interface TableStore {
  createTable(desc: TableDescriptor): Promise<void>;
  listTables(): Promise<TableDescriptor[]>;
  /** Idempotent: putting the same cells again leaves the same state. */
  put(table: string, row: string, cells: Record<string, string>, timestamp?: number): Promise<void>;
  /** One atomic, durable batch. */
  putMany(table: string, rows: PutRow[] | RowBatch, timestamp?: number): Promise<void>;
  /**
   * True when putMany calls are applied in the order they were made even when a call starts before the
   * previous one resolved (a writer may then hand over its next batch without waiting).
   */
  readonly orderedWrites?: boolean;
  get(table: string, row: string): Promise<Row | null>;
  /** Deletes the whole row, or only the named columns. */
  delete(table: string, row: string, columns?: string[]): Promise<void>;
  scan(table: string, opts?: ScanOptions): AsyncIterable<Row>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}
