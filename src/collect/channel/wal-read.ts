/**
 * Reading the write-ahead log back (replay): one checked record at an offset, or a sequential scan of a
 * file with a read-ahead window. The record format is in wal.ts.
 */
import fs from 'node:fs';
import { RECORD_HEADER, TAKE, isPut, recordCrc } from './wal.ts';

export function readFully(fd: number, buf: Buffer, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = fs.readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export interface RecordAt {
  type: number;
  payload: Buffer;
  offset: number;
  /** Offset just after the record. */
  end: number;
}

type ReadResult = { ok: true; rec: RecordAt } | { ok: false; reason: string };

/** Reads and checks the record at `offset` (payload copied into its own Buffer). */
export function readRecord(fd: number, offset: number, fileSize: number): ReadResult {
  if (fileSize - offset < RECORD_HEADER) return { ok: false, reason: `short record header (${fileSize - offset} bytes before end of file)` };
  const head = Buffer.allocUnsafe(RECORD_HEADER);
  if (readFully(fd, head, offset) < RECORD_HEADER) return { ok: false, reason: 'short read of the record header' };
  const type = head[0];
  const length = head.readUInt32LE(1);
  if (!isPut(type) && type !== TAKE) return { ok: false, reason: `unknown record type ${type}` };
  if (offset + RECORD_HEADER + length > fileSize) return { ok: false, reason: `record of ${length} bytes runs past the end of the file` };
  const whole = Buffer.allocUnsafe(RECORD_HEADER + length);
  head.copy(whole, 0);
  if (readFully(fd, whole.subarray(RECORD_HEADER), offset + RECORD_HEADER) < length) return { ok: false, reason: 'short read of the record payload' };
  const crc = head.readUInt32LE(5);
  const actual = recordCrc(whole, 0, length);
  if (crc !== actual) return { ok: false, reason: `CRC mismatch (stored ${crc.toString(16)}, computed ${actual.toString(16)})` };
  return { ok: true, rec: { type, payload: whole.subarray(RECORD_HEADER), offset, end: offset + RECORD_HEADER + length } };
}

/**
 * Sequential reader over one log file with a read-ahead window (records of a 1000-event batch are
 * ~100 KB; reading them one by one would cost two syscalls each).
 */
export class LogScanner {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  constructor(private readonly fd: number, private readonly fileSize: number) {}

  /** The record at `offset`, or why there is no valid record there. Payloads are private copies. */
  read(offset: number): ReadResult {
    const size = this.fileSize;
    if (size - offset < RECORD_HEADER) return { ok: false, reason: `short record header (${size - offset} bytes before end of file)` };
    let w = offset - this.windowStart;
    if (w < 0 || w + RECORD_HEADER > this.window.length) { this.fill(offset, RECORD_HEADER); w = 0; }
    const type = this.window[w];
    const length = this.window.readUInt32LE(w + 1);
    if (!isPut(type) && type !== TAKE) return { ok: false, reason: `unknown record type ${type}` };
    if (offset + RECORD_HEADER + length > size) return { ok: false, reason: `record of ${length} bytes runs past the end of the file` };
    if (w + RECORD_HEADER + length > this.window.length) { this.fill(offset, RECORD_HEADER + length); w = 0; }
    const crc = this.window.readUInt32LE(w + 5);
    const actual = recordCrc(this.window, w, length);
    if (crc !== actual) return { ok: false, reason: `CRC mismatch (stored ${crc.toString(16)}, computed ${actual.toString(16)})` };
    // Copy: bodies of live events point into the payload, and must not pin the whole read window.
    const payload = Buffer.from(this.window.subarray(w + RECORD_HEADER, w + RECORD_HEADER + length));
    return { ok: true, rec: { type, payload, offset, end: offset + RECORD_HEADER + length } };
  }

  private fill(offset: number, atLeast: number): void {
    const len = Math.min(Math.max(atLeast, 4 << 20), this.fileSize - offset);
    const buf = Buffer.allocUnsafe(len);
    const got = readFully(this.fd, buf, offset);
    this.window = buf.subarray(0, got);
    this.windowStart = offset;
  }
}
