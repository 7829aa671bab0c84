import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PartitionLog, StorageError } from '../../src/broker/log.ts';
import { crc32c, scanBatches } from '../../src/kafka/index.ts';
import { tmp } from './support.ts';

/** A minimal record batch v2 with `count` empty-valued records and the given max timestamp. */
function batch(count: number, ts: number): Buffer {
  const records: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    // length, attributes, timestampDelta, offsetDelta (zig-zag varints), key -1, value -1, 0 headers
    const body = Buffer.from([0, 0, i * 2, 1, 1, 0]);
    records.push(Buffer.concat([Buffer.from([body.length * 2]), body]));
  }
  const recs = Buffer.concat(records);
  const b = Buffer.alloc(61 + recs.length);
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(0, 12);
  b.writeInt8(2, 16);
  b.writeInt16BE(0, 21);
  b.writeInt32BE(count - 1, 23);
  b.writeBigInt64BE(BigInt(ts), 27);
  b.writeBigInt64BE(BigInt(ts), 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(count, 57);
  recs.copy(b, 61);
  b.writeUInt32BE(crc32c(b, 21), 17);
  return b;
}

function append(log: PartitionLog, data: Buffer): bigint {
  return log.append(data, scanBatches(data).batches, false);
}

describe('partition log', () => {
  it('assigns offsets, reads whole batches from an offset, and rolls segments', () => {
    const dir = tmp('log');
    const log = new PartitionLog(dir, { segmentBytes: 300, retentionMs: -1, retentionBytes: -1 });
    for (let i = 0; i < 10; i++) expect(append(log, batch(3, 1000 + i))).toBe(BigInt(i * 3));
    expect(log.leo).toBe(30n);
    expect(fs.readdirSync(dir).length).toBeGreaterThan(2);
    const got = scanBatches(log.read(7n, 10_000)).batches.map((b) => b.baseOffset);
    expect(got[0]).toBe(6n); // the batch holding offset 7
    expect(got.at(-1)).toBe(27n);
    expect(scanBatches(log.read(0n, 1)).batches).toHaveLength(1); // at least one batch, whatever the limit
    log.close();
  });

  it('deletes whole old segments by age and by size, never the active one', () => {
    const dir = tmp('retain');
    const now = Date.now();
    const log = new PartitionLog(dir, { segmentBytes: 200, retentionMs: 60_000, retentionBytes: -1 });
    for (let i = 0; i < 6; i++) append(log, batch(2, now - 3_600_000)); // an hour old
    for (let i = 0; i < 2; i++) append(log, batch(2, now));
    const before = fs.readdirSync(dir).length;
    expect(log.retain(now)).toBeGreaterThan(0);
    expect(fs.readdirSync(dir).length).toBeLessThan(before);
    expect(log.logStart).toBeGreaterThan(0n);
    expect(scanBatches(log.read(log.logStart, 10_000)).batches.every((b) => b.maxTimestamp >= BigInt(now - 3_600_000))).toBe(true);
    log.close();

    const dir2 = tmp('retain-size');
    const bySize = new PartitionLog(dir2, { segmentBytes: 200, retentionMs: -1, retentionBytes: 400 });
    for (let i = 0; i < 12; i++) append(bySize, batch(2, now));
    bySize.retain(now);
    const total = fs.readdirSync(dir2).reduce((s, f) => s + fs.statSync(path.join(dir2, f)).size, 0);
    expect(total).toBeLessThanOrEqual(400 + 200); // within one segment of the limit
    expect(fs.readdirSync(dir2).length).toBeGreaterThanOrEqual(1);
    bySize.close();
  });
});

// A real full disk: a small tmpfs (needs root, as CI runs).
const canMount = (() => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-log-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d]).status === 0;
  if (ok) spawnSync('umount', [d]);
  fs.rmSync(d, { recursive: true, force: true });
  if (!ok && process.env.CI) throw new Error('CI: the full-disk log test cannot mount a tmpfs (needs root)');
  return ok;
})();

describe.skipIf(!canMount)('partition log on a full disk', () => {
  it('refuses an append it cannot write whole, assigns it no offset, and carries on once space is freed', () => {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'smartcar-log-full-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]).status).toBe(0);
    try {
      const dir = path.join(mnt, 'SmartCar-Topic-0');
      const opts = { segmentBytes: 1 << 30, retentionMs: 0, retentionBytes: -1 };
      const log = new PartitionLog(dir, opts);
      expect(append(log, batch(10, 1))).toBe(0n);
      // Fill the disk but for a few bytes, so the next batch is cut short by ENOSPC.
      const ballast = path.join(mnt, 'ballast');
      const fd = fs.openSync(ballast, 'w');
      try {
        for (const n of [65_536, 4096]) for (;;) { try { fs.writeSync(fd, Buffer.alloc(n)); } catch { break; } }
      } finally {
        fs.closeSync(fd);
      }
      const size = fs.statSync(path.join(dir, fs.readdirSync(dir)[0])).size;
      // 50 batches (~24 KB): more than the free bytes left in the file's last page.
      const big = Buffer.concat(Array.from({ length: 50 }, () => batch(60, 2)));
      expect(() => append(log, big)).toThrow(StorageError);
      expect(log.leo).toBe(10n);
      expect(fs.statSync(path.join(dir, fs.readdirSync(dir)[0])).size).toBe(size);
      fs.rmSync(ballast);
      // The next append gets the next offset and is read back there, in this process and after a restart.
      expect(append(log, batch(5, 3))).toBe(10n);
      expect(log.leo).toBe(15n);
      const offsets = (l: PartitionLog) => scanBatches(l.read(0n, 1 << 20)).batches.map((b) => [b.baseOffset, b.lastOffsetDelta]);
      expect(offsets(log)).toEqual([[0n, 9], [10n, 4]]);
      log.close();
      const again = new PartitionLog(dir, opts);
      expect(again.leo).toBe(15n);
      expect(again.truncatedBytes).toBe(0);
      expect(offsets(again)).toEqual([[0n, 9], [10n, 4]]);
      again.close();
    } finally {
      spawnSync('umount', ['-l', mnt]);
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  });
});
