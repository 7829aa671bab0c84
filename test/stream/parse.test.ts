/**
 * The stream's byte-level driving-record parser against the reference `parseDrivingRecord`: the same
 * answer (record or reason) for every line — simulator output, the simulator's own garbage, and random
 * single-byte mutations of good lines that hit every field and every validation rule.
 */
import { describe, expect, it } from 'vitest';
import { parseDrivingRecord, parseDrivingRecordBytes } from '../../src/core/records.ts';
import { driverLines, rngFor } from '../../src/sim/index.ts';
import { garbageLine } from '../../src/sim/garbage.ts';
import { parseDate8 } from '../../src/core/time.ts';

const same = (bytes: Buffer) => expect(parseDrivingRecordBytes(bytes)).toEqual(parseDrivingRecord(bytes.toString('utf8')));

describe('parseDrivingRecordBytes', () => {
  const good = [...driverLines({ cars: 60, seed: 5, startMs: parseDate8('20240227'), records: 60 })].filter((l) => /^\d{14}/.test(l));

  it('gives the reference record for every simulator line', () => {
    let ok = 0;
    for (const l of good) {
      const p = parseDrivingRecordBytes(Buffer.from(l));
      expect(p).toEqual(parseDrivingRecord(l));
      if (p.ok) ok++;
    }
    expect(ok).toBe(good.length);
  });

  it('gives the reference reason for the simulator\'s garbage (truncated, field count, non-UTF-8, oversize, empty)', () => {
    const rng = rngFor(9, 1);
    const seen = new Set<string>();
    for (const l of good.slice(0, 2000)) {
      const g = garbageLine(rng, l);
      seen.add(g.kind);
      const p = parseDrivingRecordBytes(g.bytes);
      expect(p).toEqual(parseDrivingRecord(g.bytes.toString('utf8')));
    }
    expect(seen.size).toBe(5);
  });

  it('agrees with the reference on 200,000 random mutations of good lines', () => {
    const rng = rngFor(13, 2);
    const alphabet = Buffer.from('0123456789,ABCDEFGLNRZaz-+. \n\t\u00e9\xff');
    let accepted = 0, rejected = 0;
    for (let i = 0; i < 200_000; i++) {
      const b = Buffer.from(good[Math.floor(rng() * good.length)]);
      const at = Math.floor(rng() * (b.length + 1));
      const ch = alphabet[Math.floor(rng() * alphabet.length)];
      const op = rng();
      const m = op < 0.5 ? Buffer.from(b.map((x, j) => (j === at ? ch : x)))
        : op < 0.75 ? Buffer.concat([b.subarray(0, at), Buffer.from([ch]), b.subarray(at)])
          : Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
      const p = parseDrivingRecordBytes(m);
      expect(p).toEqual(parseDrivingRecord(m.toString('utf8')));
      if (p.ok) accepted++;
      else rejected++;
    }
    // Both outcomes are exercised (a digit swapped for a digit often stays valid).
    expect(accepted).toBeGreaterThan(10_000);
    expect(rejected).toBeGreaterThan(10_000);
  });

  it.each([
    '20240229000000,A0001,0,0,F,N,0,A01', // leap day
    '20230229000000,A0001,0,0,F,N,0,A01', // not a leap year
    '19000229000000,A0001,0,0,F,N,0,A01', // century, not leap
    '20000229235959,Z9999,5,3,R3,R,250,F10',
    '20240431000000,A0001,0,0,F,N,0,A01', // April 31st
    '00500101000000,A0001,0,0,F,N,0,A01', // year < 1000: the reference's own rules
    '20240101000000,A0001,005,03,L1,L,099,B09',
    '20240101000000,A0001,0000,0,F,N,0,A01',
    '20240101000000,A0001,0,0,F,N,0,A11',
    '20240101000000,A0001,0,0,F,N,0,A00',
    '20240101000000,A0001,0,0,F,N,0,A10,',
    '20240101000000,A0001,0,0,F,N,0,A10\n',
    '20240101000000,A0001,0,0,F,,0,A10',
    '20240101000000,A0001,0,0,FF,N,0,A10',
    '20240101000000,A0001,0,0,L,N,0,A10',
    '20240101000000,A0001,0,0,\u0000F,N,0,A10', // two bytes whose code must not alias the one-byte F
    '20240101000000,A0001,,0,F,N,0,A10',
    '20240101000000,A00011,0,F,N,0,A10',
    '2024010100000,A00011,0,0,F,N,0,A10',
  ])('agrees on %j', (l) => same(Buffer.from(l)));

  it('reuses the cached timestamp only for identical bytes', () => {
    same(Buffer.from('20240101000000,A0001,0,0,F,N,0,A01'));
    same(Buffer.from('20240101000001,A0001,0,0,F,N,0,A01'));
    same(Buffer.from('20240101000000,A0001,0,0,F,N,0,A01'));
  });
});
