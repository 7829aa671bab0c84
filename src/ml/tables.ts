/**
 * Writing the analyses' result tables into the lake (see ANALYSIS_TABLES in src/sql): the rows go
 * to a temporary CSV, DuckDB turns them into Parquet inside a temporary partition directory, and the
 * directory is swapped in atomically — readers see the previous table or the new one, never half.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths } from '../core/index.ts';
import { ANALYSIS_TABLES, lakePaths, recoverPartitions, swapIn, tempPartition, type AnalysisTable, type Catalog } from '../sql/index.ts';

export interface TableColumn {
  name: string;
  /** DuckDB type of the column in the table. */
  type: 'VARCHAR' | 'INTEGER' | 'DOUBLE';
}

const csvField = (v: unknown) => {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Replaces the table (or its `partition` value) with `rows`; returns the Parquet file. */
export async function writeResultTable(cat: Catalog, dataDir: string, table: AnalysisTable, columns: TableColumn[], rows: unknown[][], partitionValue?: string): Promise<string> {
  const { partition } = ANALYSIS_TABLES[table];
  const tableDir = path.join(lakePaths(dataPaths(dataDir).lake).warehouse, table);
  fs.mkdirSync(tableDir, { recursive: true });
  recoverPartitions(tableDir);
  const name = partition ? `${partition}=${partitionValue}` : 'current';
  const tmp = tempPartition(tableDir, name);
  try {
    const csv = path.join(tmp, 'rows.csv');
    const fd = fs.openSync(csv, 'w');
    try {
      let chunk: string[] = [];
      for (const r of rows) {
        chunk.push(r.map(csvField).join(','));
        if (chunk.length === 10_000) {
          fs.writeSync(fd, chunk.join('\n') + '\n');
          chunk = [];
        }
      }
      if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
    } finally {
      fs.closeSync(fd);
    }
    const out = path.join(tmp, 'data.parquet');
    const cols = `{${columns.map((c) => `'${c.name}': '${c.type}'`).join(', ')}}`;
    const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
    await cat.exec(`COPY (SELECT * FROM read_csv(${q(csv)}, header=false, columns=${cols}, auto_detect=false, quote='"')) TO ${q(out)} (FORMAT parquet)`);
    fs.rmSync(csv);
    if (partition) {
      swapIn(tmp, tableDir, name);
      return path.join(tableDir, name, 'data.parquet');
    }
    // Unpartitioned: the table is the one Parquet file in its folder, replaced by rename.
    const final = path.join(tableDir, 'data.parquet');
    fs.renameSync(out, final);
    return final;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
