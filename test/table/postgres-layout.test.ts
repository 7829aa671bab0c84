/**
 * The partitioned layout documented in docs/table.md ("Scaling out"): its DDL, taken from the doc and run
 * through psql on the machine's PostgreSQL, then the store driven over it. Rows spread over the hash
 * partitions; COPY, the ON CONFLICT merge, key-ordered scans and pushed-down filters work unchanged.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openTableStore, ensureDriverTable, drivingRecordCells, parseFilter } from '../../src/table/index.ts';
import { DRIVER_TABLE, driverRowKey, parseDrivingRecord } from '../../src/core/records.ts';
import { driverLines } from '../../src/sim/index.ts';
import { parseDate8 } from '../../src/core/time.ts';

const PG = process.env.TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `test_pglayout_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const psql = (sql: string) => execFileSync('psql', [PG, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });

afterAll(() => {
  psql(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
});

describe('docs/table.md: the hash-partitioned DriverCarInfo', () => {
  it('runs as documented and holds the stream\'s rows across its partitions', async () => {
    const doc = fs.readFileSync('docs/table.md', 'utf8');
    const ddl = /```sql partitioned\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(ddl, 'the partitioned DDL block in docs/table.md').toBeTruthy();
    psql(ddl!.replaceAll('smartcar.', `"${SCHEMA}".`).replace('CREATE SCHEMA IF NOT EXISTS smartcar;', `CREATE SCHEMA IF NOT EXISTS "${SCHEMA}";`));
    expect(psql(`SELECT relkind FROM pg_class WHERE oid = '"${SCHEMA}"."t_DriverCarInfo"'::regclass`).trim()).toBe('p');

    const store = await openTableStore({ kind: 'postgres', url: PG, schema: SCHEMA });
    try {
      await ensureDriverTable(store);
      const recs = [...driverLines({ cars: 50, seed: 5, startMs: parseDate8('20240301'), records: 40 })].map(parseDrivingRecord).flatMap((p) => (p.ok ? [p.record] : []));
      const rows = recs.map((r) => ({ row: driverRowKey(r.date, r.carNumber), cells: drivingRecordCells(r) }));
      for (let i = 0; i < rows.length; i += 500) await store.putMany(DRIVER_TABLE, rows.slice(i, i + 500)); // direct COPY
      await store.putMany(DRIVER_TABLE, rows.slice(0, 500)); // a replay: the merge path
      await store.put(DRIVER_TABLE, rows[0].row, { 'cf1:speed': '249' }); // a new version, merged
      expect(await store.count(DRIVER_TABLE)).toBe(rows.length);
      const perPartition = psql(`SELECT count(*) FROM "${SCHEMA}"."t_DriverCarInfo" GROUP BY tableoid ORDER BY 1`).trim().split('\n').map(Number);
      expect(perPartition.length).toBe(4);
      for (const n of perPartition) expect(n).toBeGreaterThan(rows.length / 8);
      const keys: string[] = [];
      for await (const r of store.scan(DRIVER_TABLE)) keys.push(r.row);
      expect(keys).toEqual(rows.map((r) => r.row).sort());
      const fast: string[] = [];
      for await (const r of store.scan(DRIVER_TABLE, { filters: [parseFilter('cf1:speed>100'), parseFilter('cf1:area_number~^B')] })) fast.push(r.row);
      const byRow = new Map(rows.map((r) => [r.row, r.cells]));
      byRow.set(rows[0].row, { ...rows[0].cells, 'cf1:speed': '249' });
      expect(fast).toEqual([...byRow].filter(([, c]) => Number(c['cf1:speed']) > 100 && c['cf1:area_number'].startsWith('B')).map(([k]) => k).sort());
      expect((await store.get(DRIVER_TABLE, rows[0].row))?.cells['cf1:speed']).toBe('249');
      const versions = store as unknown as { getVersions(t: string, r: string, c: string): Promise<{ value: string }[]> };
      expect((await versions.getVersions(DRIVER_TABLE, rows[0].row, 'cf1:speed')).map((v) => v.value)).toEqual(['249', rows[0].cells['cf1:speed']]);
    } finally {
      await store.close();
    }
  });
});
