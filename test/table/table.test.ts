import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTableStore, parseFilter, ensureDriverTable, drivingRecordCells, DrivingRows, type TableStore } from '../../src/table/index.ts';
import { DRIVER_TABLE, driverRowKey, parseDrivingRecord, type DrivingRecord } from '../../src/core/records.ts';
import { driverLines } from '../../src/sim/index.ts';
import { parseDate8 } from '../../src/core/time.ts';
import { specDriving, specRowKey } from '../support/spec.ts';
import { open as openLmdb } from 'lmdb';
import { columnSetOf, encodeDrivingRows, encodeRows } from '../../src/table/lmdb-rows.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-table-'));
const PG = process.env.TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `test_table_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const kinds = [
  ['LMDB', () => openTableStore({ kind: 'lmdb', path: path.join(dir, 'table') })],
  ['PostgreSQL', () => openTableStore({ kind: 'postgres', url: PG, schema: SCHEMA })],
] as const;
const simulatedRecords = (cars: number, records: number, seed: number): DrivingRecord[] =>
  [...driverLines({ cars, seed, startMs: parseDate8('20240101'), records })].map(parseDrivingRecord).flatMap((p) => (p.ok ? [p.record] : []));
const drivingRows = (recs: DrivingRecord[]) => {
  const d = new DrivingRows();
  for (const r of recs) d.push(r);
  return d;
};
const rows = async (it: AsyncIterable<{ row: string; cells: Record<string, string> }>) => {
  const out: { row: string; cells: Record<string, string> }[] = [];
  for await (const r of it) out.push(r);
  return out;
};

describe.each(kinds)('table store on %s (one contract, every adapter)', (kind, open) => {
let store: TableStore;
beforeAll(async () => {
  store = await open();
  await store.createTable({ name: 't', families: ['cf1', 'cf2'], maxVersions: 2 });
  await store.putMany('t', ['a1', 'a2', 'a3', 'b1', 'b2'].map((row, i) => ({ row, cells: { 'cf1:speed': String(i * 50), 'cf1:name': row.toUpperCase() } })));
});
afterAll(async () => {
  if (kind === 'PostgreSQL') await (store as unknown as { dropSchema(): Promise<void> }).dropSchema();
  await store.close();
});

  it('puts, gets, keeps N versions and deletes columns or rows', async () => {
    await store.put('t', 'v', { 'cf1:x': '1' }, 1);
    await store.put('t', 'v', { 'cf1:x': '2' }, 2);
    await store.put('t', 'v', { 'cf1:x': '3', 'cf2:y': 'z' }, 3);
    await store.put('t', 'v', { 'cf1:x': '3' }, 4); // the same value is not a new version
    expect(await store.get('t', 'v')).toEqual({ row: 'v', cells: { 'cf1:x': '3', 'cf2:y': 'z' } });
    if (kind === 'LMDB') {
      const lmdb = store as unknown as { getVersions(t: string, r: string, c: string): Promise<{ timestamp: number; value: string }[]> };
      expect(await lmdb.getVersions('t', 'v', 'cf1:x')).toEqual([{ timestamp: 3, value: '3' }, { timestamp: 2, value: '2' }]);
    }
    await store.delete('t', 'v', ['cf2:y']);
    expect(await store.get('t', 'v')).toEqual({ row: 'v', cells: { 'cf1:x': '3' } });
    await store.delete('t', 'v');
    expect(await store.get('t', 'v')).toBeNull();
  });

  it('rejects a column outside the table\'s families and an unknown table', async () => {
    await expect(store.put('t', 'x', { 'cf9:q': '1' })).rejects.toThrow(/families: cf1, cf2/);
    await expect(store.get('nope', 'x')).rejects.toThrow(/no table 'nope'/);
  });

  it('scans ranges, prefixes, filters, limits and in reverse', async () => {
    const keys = async (o: Parameters<TableStore['scan']>[1]) => (await rows(store.scan('t', o))).map((r) => r.row);
    expect(await keys({})).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect(await keys({ start: 'a2', stop: 'b2' })).toEqual(['a2', 'a3', 'b1']);
    expect(await keys({ prefix: 'a' })).toEqual(['a1', 'a2', 'a3']);
    expect(await keys({ prefix: 'a', reverse: true })).toEqual(['a3', 'a2', 'a1']);
    expect(await keys({ start: 'a2', stop: 'b2', reverse: true })).toEqual(['b1', 'a3', 'a2']);
    expect(await keys({ filters: [parseFilter('cf1:speed>=100')] })).toEqual(['a3', 'b1', 'b2']);
    expect(await keys({ filters: [parseFilter('cf1:speed>=100'), parseFilter('cf1:name~^B')], limit: 1 })).toEqual(['b1']);
    // Numeric, not string, comparison: '50' < '100' numerically.
    expect(await keys({ filters: [parseFilter('cf1:speed<100')] })).toEqual(['a1', 'a2']);
    expect(await keys({ filters: [parseFilter('cf1:missing=1')] })).toEqual([]);
    expect(() => parseFilter('speed>1')).toThrow(/family:qualifier OP value/);
  });

  it('applies putMany calls in call order when it claims orderedWrites, also when none is awaited first', async () => {
    expect(store.orderedWrites).toBe(true);
    await store.createTable({ name: 'ord', families: ['cf1'], maxVersions: 3 });
    // Each call puts the same row (a merge after the first) and a batch large enough for PostgreSQL's COPY.
    const calls = Array.from({ length: 12 }, (_, i) => store.putMany('ord', [
      { row: 'same', cells: { 'cf1:v': String(i) } },
      ...Array.from({ length: 100 }, (_, j) => ({ row: `r${i}-${j}`, cells: { 'cf1:v': String(j) } })),
    ], 1000 + i));
    await Promise.all(calls);
    expect((await store.get('ord', 'same'))?.cells).toEqual({ 'cf1:v': '11' });
    if (kind === 'LMDB') {
      const lmdb = store as unknown as { getVersions(t: string, r: string, c: string): Promise<{ timestamp: number; value: string }[]> };
      expect(await lmdb.getVersions('ord', 'same', 'cf1:v')).toEqual([11, 10, 9].map((i) => ({ timestamp: 1000 + i, value: String(i) })));
    }
  });

  it('takes the stream\'s batch of driving records (DrivingRows) as the rows it stands for, new and merged', async () => {
    await store.createTable({ name: 'drv', families: ['cf1'], maxVersions: 3 });
    const recs = simulatedRecords(30, 10, 5);
    const batch = drivingRows(recs);
    const want = batch.rows();
    expect(want[0]).toEqual({ row: driverRowKey(recs[0].date, recs[0].carNumber), cells: drivingRecordCells(recs[0]) });
    await store.putMany('drv', batch, 100);
    const byKey = (a: { row: string }, b: { row: string }) => (a.row < b.row ? -1 : a.row > b.row ? 1 : 0);
    expect(await rows(store.scan('drv'))).toEqual([...want].sort(byKey));
    // Again with other speeds: every row exists now (LMDB's writer leaves the batch to the merge path).
    await store.putMany('drv', drivingRows(recs.map((r) => ({ ...r, speed: r.speed + 1 }))), 200);
    const first = recs[0];
    const key = driverRowKey(first.date, first.carNumber);
    expect((await store.get('drv', key))?.cells['cf1:speed']).toBe(String(first.speed + 1));
    expect(await store.count('drv')).toBe(want.length);
    if (kind === 'LMDB') {
      const lmdb = store as unknown as { getVersions(t: string, r: string, c: string): Promise<{ timestamp: number; value: string }[]> };
      expect(await lmdb.getVersions('drv', key, 'cf1:speed')).toEqual([{ timestamp: 200, value: String(first.speed + 1) }, { timestamp: 100, value: String(first.speed) }]);
    }
  });

  it('holds the seed table: a filtered scan equals the same filter over the log, and another process sees the rows', async () => {
    await ensureDriverTable(store);
    const lines = [...driverLines({ cars: 20, seed: 3, startMs: parseDate8('20240101'), records: 100 })];
    const recs = lines.map(parseDrivingRecord).flatMap((p) => (p.ok ? [p.record] : []));
    await store.putMany(DRIVER_TABLE, recs.map((r) => ({ row: driverRowKey(r.date, r.carNumber), cells: drivingRecordCells(r) })));
    expect(await store.count(DRIVER_TABLE)).toBe(2000);
    const fast = await rows(store.scan(DRIVER_TABLE, { filters: [parseFilter('cf1:speed>100'), parseFilter('cf1:area_number~^A')] }));
    // Expected keys from the suite's own parser (test/support/spec.ts), compared as exact sets.
    const spec = lines.map(specDriving).filter((r) => r !== undefined);
    const keysWhere = (f: (r: (typeof spec)[number]) => boolean) => spec.filter(f).map((r) => specRowKey(r.date, r.car)).sort();
    const wantFast = keysWhere((r) => r.speed > 100 && r.area.startsWith('A'));
    expect(wantFast.length).toBeGreaterThan(5);
    expect(fast.map((r) => r.row).sort()).toEqual(wantFast);
    // Scans page through more rows than one page holds, in key order.
    const all = await rows(store.scan(DRIVER_TABLE, {}));
    expect(all.map((r) => r.row)).toEqual(keysWhere(() => true));
    // Another process (the CLI) sees the same rows, on either engine.
    const env = kind === 'PostgreSQL' ? { ...process.env, SMARTCAR_POSTGRES: PG, SMARTCAR_POSTGRES_SCHEMA: SCHEMA } : { ...process.env, SMARTCAR_POSTGRES: '' };
    const out = execFileSync(process.execPath, ['bin/smartcar.js', 'table', 'scan', DRIVER_TABLE, '--data', dir, '--filter', 'cf1:speed>100', '--format', 'json'], { encoding: 'utf8', env });
    const seen = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    expect(seen.map((r) => r.row)).toEqual(keysWhere((r) => r.speed > 100));
    const bySpeed = new Map(spec.map((r) => [specRowKey(r.date, r.car), String(r.speed)]));
    expect(seen.filter((r) => r['cf1:speed'] !== bySpeed.get(r.row))).toEqual([]);
    if (kind === 'PostgreSQL') {
      // And psql, a client nobody here wrote, reads the same row keys from the table.
      const psql = execFileSync('psql', [PG, '-At', '-c', `select row from "${SCHEMA}"."t_${DRIVER_TABLE}" order by row collate "C"`], { encoding: 'utf8' });
      expect(psql.trim().split('\n')).toEqual(keysWhere(() => true));
    }
  });
});

describe('LMDB: new rows written compact, as MessagePack bytes directly', () => {
  it('read back exactly as put, and merge with later versions', async () => {
    const store = await openTableStore({ kind: 'lmdb', path: path.join(dir, 'encoded') });
    const lmdb = store as unknown as { getVersions(t: string, r: string, c: string): Promise<{ timestamp: number; value: string }[]> };
    try {
      await store.createTable({ name: 'e', families: ['cf1', 'cf2'], maxVersions: 3 });
      const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`cf2:c${i}`, String(i)])); // > 15 columns: map16
      const cases: [string, Record<string, string>, number][] = [
        ['ascii', { 'cf1:speed': '120', 'cf1:area_number': 'A01' }, 1_732_000_000_123],
        ['utf8', { 'cf1:name': 'Zürich – 東京', 'cf1:e': '' }, 5],
        ['long', { 'cf1:a': 'x'.repeat(31), 'cf1:b': 'y'.repeat(32), 'cf1:c': 'é'.repeat(200), 'cf1:d': 'z'.repeat(70_000) }, 0.5],
        ['wide', many, -1],
        ['huge', { 'cf1:blob': 'ä'.repeat(300_000) }, 7], // bigger than an encoding chunk
      ];
      for (const [row, cells, ts] of cases) await store.put('e', row, cells, ts);
      for (const [row, cells, ts] of cases) {
        expect(await store.get('e', row)).toEqual({ row, cells });
        for (const [col, value] of Object.entries(cells)) expect(await lmdb.getVersions('e', row, col)).toEqual([{ timestamp: ts, value }]);
        // Column order is the put order, as with the encoder.
        expect(Object.keys((await store.get('e', row))!.cells)).toEqual(Object.keys(cells));
      }
      // An existing row takes the read-merge-write path over the directly written bytes.
      await store.put('e', 'ascii', { 'cf1:speed': '95' }, 1_732_000_000_999);
      expect(await lmdb.getVersions('e', 'ascii', 'cf1:speed')).toEqual([{ timestamp: 1_732_000_000_999, value: '95' }, { timestamp: 1_732_000_000_123, value: '120' }]);
      expect(await lmdb.getVersions('e', 'ascii', 'cf1:area_number')).toEqual([{ timestamp: 1_732_000_000_123, value: 'A01' }]);
      // A scan decodes them the same way.
      expect((await rows(store.scan('e', { filters: [parseFilter('cf1:speed=95')] }))).map((r) => r.row)).toEqual(['ascii']);
    } finally {
      await store.close();
    }
  });

  it('encodes driving records straight to the same bytes as their rows through encodeRows (the oracle)', () => {
    const check = (seen: string[][]) => (columns: string[]) => void seen.push(columns);
    // The job's bytes as far as its rows go (the buffer's tail past them is unused).
    const used = (job: ArrayBuffer) => {
      const b = Buffer.from(job);
      let pos = 4;
      for (let n = b.readUInt32LE(0); n > 0; n--) {
        pos += 2 + b.readUInt16LE(pos);
        pos += 4 + b.readUInt32LE(pos);
      }
      return b.subarray(0, pos);
    };
    const odd: DrivingRecord = { ...simulatedRecords(1, 1, 1)[0], carNumber: 'Ä0001', areaNumber: 'Zürich', steerAngle: 'x'.repeat(40) };
    const cases: [string, DrivingRecord[]][] = [
      ['simulated', simulatedRecords(100, 20, 9)],
      ['non-ASCII and long fields', [odd, ...simulatedRecords(3, 2, 2), odd]],
      // Past the first buffer's size: the growth path.
      ['long fields, many', Array.from({ length: 300 }, (_, i) => ({ ...odd, steerAngle: 'é'.repeat(100 + i) }))],
    ];
    for (const [what, recs] of cases) {
      const seenDirect: string[][] = [], seenRows: string[][] = [];
      const direct = encodeDrivingRows(recs, 1_732_000_000_123, check(seenDirect));
      const viaRows = encodeRows(drivingRows(recs).rows(), 1_732_000_000_123, check(seenRows));
      expect(used(direct.rows).equals(used(viaRows.rows)), what).toBe(true);
      expect(direct.sets, what).toEqual(viaRows.sets);
      expect(seenDirect, what).toEqual(seenRows);
    }
  });

  it('reads, merges and deletes rows of the full form (written by earlier versions) beside compact ones', async () => {
    const where = path.join(dir, 'full-form');
    let store = await openTableStore({ kind: 'lmdb', path: where });
    await store.createTable({ name: 'f', families: ['cf1'], maxVersions: 3 });
    await store.put('f', 'compact', { 'cf1:a': '1', 'cf1:b': '2' }, 10);
    await store.close();
    // A full row as lmdb-js's encoder wrote every row before the compact form.
    const env = openLmdb({ path: where, maxDbs: 64 });
    const full = { name: 't:f', mapsAsObjects: true };
    await env.openDB(full).put('full', { 'cf1:a': [[20, 'x'], [15, 'w']], 'cf1:b': [[20, 'y']] });
    await env.close();
    store = await openTableStore({ kind: 'lmdb', path: where });
    const lmdb = store as unknown as { getVersions(t: string, r: string, c: string): Promise<{ timestamp: number; value: string }[]> };
    try {
      expect(await rows(store.scan('f'))).toEqual([{ row: 'compact', cells: { 'cf1:a': '1', 'cf1:b': '2' } }, { row: 'full', cells: { 'cf1:a': 'x', 'cf1:b': 'y' } }]);
      expect(await lmdb.getVersions('f', 'full', 'cf1:a')).toEqual([{ timestamp: 20, value: 'x' }, { timestamp: 15, value: 'w' }]);
      await store.putMany('f', [{ row: 'full', cells: { 'cf1:a': 'z' } }, { row: 'compact', cells: { 'cf1:b': '3' } }], 30);
      expect(await lmdb.getVersions('f', 'full', 'cf1:a')).toEqual([{ timestamp: 30, value: 'z' }, { timestamp: 20, value: 'x' }, { timestamp: 15, value: 'w' }]);
      expect(await lmdb.getVersions('f', 'compact', 'cf1:b')).toEqual([{ timestamp: 30, value: '3' }, { timestamp: 10, value: '2' }]);
      await store.delete('f', 'full', ['cf1:b']);
      expect(await store.get('f', 'full')).toEqual({ row: 'full', cells: { 'cf1:a': 'z' } });
    } finally {
      await store.close();
    }
  });

  it('keeps two column sets apart whose names hash alike (the batch bringing the second is written as full rows, also when it brings both)', async () => {
    // Two single-column sets with the same 32-bit hash, found by trying names.
    const byHash = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const name = `cf1:q${i}`;
      const { hash } = columnSetOf([name]);
      const other = byHash.get(hash);
      if (other) pair = [other, name];
      else byHash.set(hash, name);
    }
    const [first, second] = pair;
    const where = path.join(dir, 'collision');
    let store = await openTableStore({ kind: 'lmdb', path: where });
    try {
      await store.createTable({ name: 'h', families: ['cf1'] });
      await store.putMany('h', Array.from({ length: 100 }, (_, i) => ({ row: `a${i}`, cells: { [first]: String(i) } })), 1);
      await store.putMany('h', Array.from({ length: 100 }, (_, i) => ({ row: `b${i}`, cells: { [second]: String(i) } })), 2);
      // Both sets in one batch, neither stored before in this table.
      await store.createTable({ name: 'h2', families: ['cf1'] });
      await store.putMany('h2', Array.from({ length: 100 }, (_, i) => ({ row: `c${i}`, cells: { [i % 2 ? second : first]: String(i) } })), 3);
    } finally {
      await store.close();
    }
    store = await openTableStore({ kind: 'lmdb', path: where });
    try {
      expect(await store.get('h', 'a7')).toEqual({ row: 'a7', cells: { [first]: '7' } });
      expect(await store.get('h', 'b7')).toEqual({ row: 'b7', cells: { [second]: '7' } });
      expect(await store.count('h')).toBe(200);
      expect(await store.get('h2', 'c6')).toEqual({ row: 'c6', cells: { [first]: '6' } });
      expect(await store.get('h2', 'c7')).toEqual({ row: 'c7', cells: { [second]: '7' } });
    } finally {
      await store.close();
    }
  });
});
