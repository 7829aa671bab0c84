/**
 * Partition storage: append-only segment files `<topic>-<partition>/<20-digit base offset>.log` holding
 * record batches exactly as produced (base offsets assigned here), with an in-memory index of every
 * batch (offset range → segment, position) rebuilt at start-up.
 *
 * Crash safety: at start-up every segment is scanned and CRC-checked; a torn tail (a batch cut short
 * or corrupt, from a crash mid-write) is truncated at the last valid batch, and everything before it is
 * served. With `flush: 'always'` an append is fsynced before it is acknowledged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanBatches, type BatchInfo } from '../kafka/index.ts';

interface Segment { base: bigint; file: string; fd: number; size: number; newest: bigint }
interface Entry { base: bigint; last: bigint; seg: Segment; pos: number; size: number; maxTs: bigint }

export interface LogOptions {
  segmentBytes: number;
  retentionMs: number;
  retentionBytes: number;
}

/** The disk refused a write (full, quota, I/O error): nothing of it was kept. */
export class StorageError extends Error {
  readonly code: string | undefined;
  constructor(message: string, cause: NodeJS.ErrnoException) {
    super(message);
    this.code = cause.code;
  }
}

const name = (base: bigint) => `${base.toString().padStart(20, '0')}.log`;

export class PartitionLog {
  private segments: Segment[] = [];
  private index: Entry[] = [];
  /** Next offset to assign (the log end offset). */
  leo = 0n;
  /** Oldest offset still stored. */
  logStart = 0n;
  truncatedBytes = 0;

  constructor(readonly dir: string, private readonly opts: LogOptions) {
    fs.mkdirSync(dir, { recursive: true });
    const files = fs.readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f)).sort();
    for (const f of files) {
      const file = path.join(dir, f);
      const data = fs.readFileSync(file);
      const { batches, validBytes } = scanBatches(data, true, true);
      if (validBytes < data.length) {
        this.truncatedBytes += data.length - validBytes;
        fs.truncateSync(file, validBytes);
      }
      const seg: Segment = { base: BigInt(f.slice(0, 20)), file, fd: fs.openSync(file, 'r+'), size: validBytes, newest: 0n };
      this.segments.push(seg);
      for (const b of batches) this.addIndex(seg, b);
    }
    if (this.segments.length === 0) this.roll(0n);
    else {
      this.leo = this.index.length ? this.index[this.index.length - 1].last + 1n : this.segments[this.segments.length - 1].base;
      this.logStart = this.index.length ? this.index[0].base : this.leo;
    }
  }

  private addIndex(seg: Segment, b: BatchInfo, pos = b.pos): void {
    this.index.push({ base: b.baseOffset, last: b.baseOffset + BigInt(b.lastOffsetDelta), seg, pos, size: b.size, maxTs: b.maxTimestamp });
    if (b.maxTimestamp > seg.newest) seg.newest = b.maxTimestamp;
  }

  private roll(base: bigint): Segment {
    const file = path.join(this.dir, name(base));
    const seg: Segment = { base, file, fd: fs.openSync(file, 'a+'), size: 0, newest: 0n };
    this.segments.push(seg);
    return seg;
  }

  /**
   * Appends validated batches (`data` holds whole batches, `batches` their positions), assigning offsets.
   * Returns the base offset of the first. All or nothing: when the write fails (a full disk: ENOSPC,
   * EDQUOT, EIO), the bytes written so far are cut off again, no offset is assigned and a
   * `StorageError` is thrown — the producer is told to retry, and the log stays as it was.
   */
  append(data: Buffer, batches: BatchInfo[], fsync: boolean): bigint {
    let seg = this.segments[this.segments.length - 1];
    if (seg.size >= this.opts.segmentBytes) seg = this.roll(this.leo);
    const first = this.leo;
    let next = this.leo;
    for (const b of batches) {
      data.writeBigInt64BE(next, b.pos);
      next += BigInt(b.lastOffsetDelta) + 1n;
    }
    try {
      let off = 0;
      while (off < data.length) off += fs.writeSync(seg.fd, data, off, data.length - off, seg.size + off);
      if (fsync) fs.fdatasyncSync(seg.fd);
    } catch (err) {
      try {
        fs.ftruncateSync(seg.fd, seg.size);
      } catch {
        // The torn tail is cut at the next start-up (CRC scan) all the same.
      }
      throw new StorageError(`cannot append to ${seg.file}: ${(err as Error).message}`, err as NodeJS.ErrnoException);
    }
    let at = first;
    for (const b of batches) {
      this.addIndex(seg, { ...b, baseOffset: at }, seg.size + b.pos);
      at += BigInt(b.lastOffsetDelta) + 1n;
    }
    this.leo = next;
    seg.size += data.length;
    return first;
  }

  /** Whole batches starting with the one holding `offset`, up to about `maxBytes` (at least one batch). */
  read(offset: bigint, maxBytes: number): Buffer {
    const idx = this.index;
    let lo = 0, hi = idx.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (idx[mid].last < offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= idx.length) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    let total = 0;
    for (let i = lo; i < idx.length; i++) {
      const e = idx[i];
      if (total > 0 && total + e.size > maxBytes) break;
      // Coalesce consecutive batches of one segment into one read.
      let j = i, size = e.size;
      while (j + 1 < idx.length && idx[j + 1].seg === e.seg && idx[j + 1].pos === idx[j].pos + idx[j].size && total + size + idx[j + 1].size <= maxBytes) {
        j++;
        size += idx[j].size;
      }
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const n = fs.readSync(e.seg.fd, buf, got, size - got, e.pos + got);
        if (n === 0) break;
        got += n;
      }
      parts.push(buf.subarray(0, got));
      total += got;
      i = j;
      if (total >= maxBytes) break;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** The earliest offset whose batch has a timestamp ≥ ts; the log end when none. */
  offsetForTime(ts: bigint): bigint {
    for (const e of this.index) if (e.maxTs >= ts) return e.base;
    return this.leo;
  }

  flush(): void {
    fs.fdatasyncSync(this.segments[this.segments.length - 1].fd);
  }

  /** Deletes whole old segments (never the active one) past the time or size limits. */
  retain(nowMs: number): number {
    let removed = 0;
    let total = this.segments.reduce((s, x) => s + x.size, 0);
    while (this.segments.length > 1) {
      const seg = this.segments[0];
      const old = this.opts.retentionMs > 0 && seg.newest > 0n && seg.newest < BigInt(nowMs - this.opts.retentionMs);
      const big = this.opts.retentionBytes > 0 && total > this.opts.retentionBytes;
      if (!old && !big) break;
      fs.closeSync(seg.fd);
      fs.rmSync(seg.file, { force: true });
      this.segments.shift();
      total -= seg.size;
      this.index = this.index.filter((e) => e.seg !== seg);
      removed++;
    }
    this.logStart = this.index.length ? this.index[0].base : this.leo;
    return removed;
  }

  close(): void {
    for (const s of this.segments) fs.closeSync(s.fd);
  }
}
