/**
 * Line splitting over file chunks, shared by the spooling-directory and tail sources.
 *
 * Bodies are slices of the chunk buffer (no copy, no string); a line without its newline at the end of
 * a chunk is carried into the next read. `\r\n` endings lose their `\r`, as Flume's LineDeserializer does.
 */
import fs from 'node:fs';
import type { CollectEvent } from '../types.ts';

export const CHUNK = 4 << 20;

export interface LineReader {
  /** Byte offset in the file of the first byte not yet returned as part of a complete line. */
  readonly offset: number;
  /**
   * Reads whatever is available up to `maxLines` complete lines. Returns the lines (each with the file
   * offset just past its newline) — an empty array at EOF. `tooLong` lines are reported separately.
   */
  read(maxLines: number): { lines: Buffer[]; ends: number[]; tooLong: Buffer[] };
  /** The incomplete last line (no newline yet), if any. */
  pending(): Buffer;
  close(): void;
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
      const lines: Buffer[] = [];
      const ends: number[] = [];
      const tooLong: Buffer[] = [];
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
        while (nl !== -1 && lines.length < maxLines) {
          let end = nl;
          if (end > start && buf[end - 1] === 13) end--;
          const line = buf.subarray(start, end);
          fileOffset += nl + 1 - start;
          start = nl + 1;
          if (line.length > maxLineLength) tooLong.push(line.subarray(0, 1024));
          else {
            lines.push(line);
            ends.push(fileOffset);
          }
          nl = buf.indexOf(10, start);
        }
        if (lines.length >= maxLines) return { lines, ends, tooLong };
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
        const n = fs.readSync(fd, next, rest, next.length - rest, readPos);
        readPos += n;
        buf = next.subarray(0, rest + n);
        start = 0;
        if (n === 0) return { lines, ends, tooLong };
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

/** Events from lines, all sharing one headers object. */
export function toEvents(lines: Buffer[], headers: Record<string, string>): CollectEvent[] {
  const out: CollectEvent[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) out[i] = { headers, body: lines[i] };
  return out;
}
