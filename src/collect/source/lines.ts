/**
 * Line splitting over file chunks, shared by the spooling-directory and tail sources.
 *
 * A read returns the lines as offsets into the chunk buffer (no copy, no object per line), ready to be
 * an EventBatch whose bodies sit in the file's own layout, each followed by its newline. A batch never
 * spans two chunks (a read stops at the end of a chunk when it has lines); a line without its newline at
 * the end of a chunk is carried into the next chunk. `\r\n` endings lose their `\r`, as Flume's
 * LineDeserializer does.
 */
import fs from 'node:fs';
import { EventBatch, type Headers } from '../batch.ts';
import type { CollectEvent } from '../types.ts';

export const CHUNK = 4 << 20;

export interface LineReader {
  /** Byte offset in the file of the first byte not yet returned as part of a complete line. */
  readonly offset: number;
  /**
   * Reads up to `maxLines` complete lines of what is available (fewer at the end of a chunk) — none at
   * EOF. `tooLong` lines (their first 1 KB) are reported separately. `eof`: the read reached the end of
   * the file (only what `pending()` returns is left).
   */
  read(maxLines: number): { lines: LineBlock; tooLong: Buffer[]; eof: boolean };
  /** The incomplete last line (no newline yet), if any. */
  pending(): Buffer;
  close(): void;
}

/** Lines `data[starts[i], ends[i])`, i < count, without their line ends. */
export interface LineBlock {
  data: Buffer;
  starts: Uint32Array;
  ends: Uint32Array;
  count: number;
}

export function openLineReader(fd: number, startOffset: number, maxLineLength: number, closeFd = true): LineReader {
  let buf = Buffer.alloc(0);
  let start = 0; // first unconsumed byte in buf
  let fileOffset = startOffset; // file offset of buf[start]
  let readPos = startOffset; // next file offset to read from
  let skipping = false;
  const r: LineReader = {
    get offset() {
      return fileOffset;
    },
    read(maxLines) {
      const starts = new Uint32Array(maxLines);
      const ends = new Uint32Array(maxLines);
      let n = 0;
      const tooLong: Buffer[] = [];
      const done = (eof = false) => ({ lines: { data: buf, starts, ends, count: n }, tooLong, eof });
      for (;;) {
        if (skipping) {
          // Inside an over-long line: drop bytes up to its newline.
          const nl = buf.indexOf(10, start);
          if (nl === -1) {
            fileOffset += buf.length - start;
            start = buf.length;
          } else {
            fileOffset += nl + 1 - start;
            start = nl + 1;
            skipping = false;
          }
        }
        let nl = skipping ? -1 : buf.indexOf(10, start);
        while (nl !== -1 && n < maxLines) {
          let end = nl;
          if (end > start && buf[end - 1] === 13) end--;
          fileOffset += nl + 1 - start;
          if (end - start > maxLineLength) tooLong.push(buf.subarray(start, Math.min(end, start + 1024)));
          else {
            starts[n] = start;
            ends[n] = end;
            n++;
          }
          start = nl + 1;
          nl = buf.indexOf(10, start);
        }
        // A batch never spans two chunks: with lines in hand, return rather than read on.
        if (n > 0) return done();
        let rest = buf.length - start;
        if (!skipping && rest > maxLineLength) {
          // No newline within the longest allowed line: dead-letter its head and skip the rest of it.
          tooLong.push(Buffer.from(buf.subarray(start, start + 1024)));
          fileOffset += rest;
          start = buf.length;
          rest = 0;
          skipping = true;
        }
        // Need more bytes: keep the partial tail, read the next chunk behind it.
        const next = Buffer.allocUnsafe(Math.max(CHUNK, rest * 2));
        buf.copy(next, 0, start);
        const got = fs.readSync(fd, next, rest, next.length - rest, readPos);
        readPos += got;
        buf = next.subarray(0, rest + got);
        start = 0;
        if (got === 0) return done(true);
      }
    },
    pending() {
      return buf.subarray(start);
    },
    close() {
      if (closeFd) fs.closeSync(fd);
    },
  };
  return r;
}

/**
 * A block's lines as a batch sharing `headers`; `last` (a final line without its newline, copied by the
 * caller) is appended when given.
 */
export function linesBatch(block: LineBlock, headers: Headers, last?: Buffer): EventBatch {
  const batch = new EventBatch(block.data, block.starts, block.ends, block.count, headers);
  if (!last || last.length === 0) return batch;
  return EventBatch.fromEvents([...batch.events(), { headers, body: last }]);
}

/** Events from lines, all sharing one headers object. */
export function toEvents(lines: Buffer[], headers: Record<string, string>): CollectEvent[] {
  const out: CollectEvent[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) out[i] = { headers, body: lines[i] };
  return out;
}
