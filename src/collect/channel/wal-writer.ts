/**
 * The append side of the file channel's write-ahead log (format in wal.ts).
 *
 * Durability: a record is appended with one write and is acknowledged (applied and its commit resolved)
 * only after an fdatasync that covers it. The last file is preallocated with zeros in 8 MB steps (as
 * Flume does): an fdatasync that does not change the file size need not commit file-system metadata,
 * which makes the per-commit sync up to twice as fast on ext4. So the log of the last file ends at the
 * first record header whose type byte is 0 and after which the file holds only zeros; a file is cut to
 * its log end when it is rolled or closed. Commits that arrive while a sync runs share the next one (group
 * commit); acknowledgements happen in log order. Before a new file is started the old one is synced, so
 * only the last file can end with a torn record. A failed write is cut off again (ftruncate); a failed
 * fdatasync marks the log failed (the page cache state is then unknown): every later commit is refused
 * until the agent restarts and replays.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDirSync } from '../../core/index.ts';
import { FILE_HEADER, FILE_MAGIC, logFileName, recordBytes, type EncodedRecord } from './wal.ts';

const PREALLOCATE = 8 << 20;
const ZEROS = Buffer.alloc(1 << 20);

export function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

/** Writes the buffers back to back at `position` (writev, continued after a short write). */
function writevFully(fd: number, bufs: Buffer[], position: number): void {
  let done = fs.writevSync(fd, bufs, position);
  let skip = done;
  for (const b of bufs) {
    if (skip >= b.length) { skip -= b.length; continue; }
    writeFully(fd, skip ? b.subarray(skip) : b, position + done);
    done += b.length - skip;
    skip = 0;
  }
}

interface SyncWaiter {
  no: number;
  apply: () => void;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The append side of the log: one open file, rolled past maxFileSize, with group-committed fdatasync. */
export class LogWriter {
  fileId = 0;
  /** End of the log in the current file. */
  size = 0;
  /** Physical size of the current file (log end plus preallocated zeros). */
  private allocated = 0;
  private fd = -1;
  private written = 0;
  private synced = 0;
  private syncing = false;
  private kickScheduled = false;
  private waiters: SyncWaiter[] = [];
  private retired: number[] = [];
  private failed: Error | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Bytes appended since open (for the disk-space estimate and the benchmark). */
  bytesWritten = 0;
  /** fdatasync calls made for commits (fewer than commits when group commit merges them). */
  syncs = 0;

  /** Called after a roll (the channel checkpoints then, so old files go soon and disk use stays bounded). */
  onRoll: (() => void) | undefined;

  constructor(readonly dir: string, readonly maxFileSize: number, private readonly label: string) {}

  /** Continues an existing file (after replay, `size` = its log end) or creates `log-<id>`. */
  open(fileId: number, existingSize: number | undefined): void {
    if (existingSize === undefined) this.create(fileId);
    else {
      this.fd = fs.openSync(path.join(this.dir, logFileName(fileId)), 'r+');
      this.fileId = fileId;
      this.size = existingSize;
      this.allocated = fs.fstatSync(this.fd).size;
    }
  }

  private create(fileId: number): void {
    const file = path.join(this.dir, logFileName(fileId));
    const fd = fs.openSync(file, 'wx');
    const head = Buffer.alloc(FILE_HEADER);
    FILE_MAGIC.copy(head, 0);
    head.writeUInt32LE(fileId, 8);
    try {
      writeFully(fd, head, 0);
      fs.fdatasyncSync(fd);
      fsyncDirSync(this.dir);
    } catch (err) {
      // A full disk: no half-made file is left for the next attempt to trip over.
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
      throw err;
    }
    this.fd = fd;
    this.fileId = fileId;
    this.size = FILE_HEADER;
    this.allocated = FILE_HEADER;
  }

  /** Extends the file with zeros so the next records overwrite instead of append. */
  private preallocate(needed: number): void {
    const target = Math.max(needed, Math.min(this.allocated + PREALLOCATE, this.maxFileSize));
    while (this.allocated < target) {
      const n = Math.min(ZEROS.length, target - this.allocated);
      writeFully(this.fd, ZEROS.subarray(0, n), this.allocated);
      this.allocated += n;
    }
  }

  /** Appends one encoded record; returns where it went and its number for `whenDurable`. Throws on failure. */
  append(rec: EncodedRecord): { fileId: number; offset: number; no: number; length: number } {
    if (this.failed) throw this.failed;
    if (this.fd < 0) throw new Error(`${this.label}: the log is closed`);
    const length = recordBytes(rec);
    let offset = this.size;
    try {
      if (this.size > FILE_HEADER && this.size + length > this.maxFileSize) {
        this.roll();
        offset = this.size;
      }
      if (offset + length > this.allocated) this.preallocate(offset + length);
      writevFully(this.fd, rec, offset);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      try {
        // Zero the bytes again (the log ends at the first zero type byte), then drop the preallocation.
        fs.ftruncateSync(this.fd, offset);
        this.allocated = offset;
      } catch (terr) {
        this.failed = new Error(`${this.label}: a failed write to ${logFileName(this.fileId)} could not be cut off (${(terr as Error).message}); restart the agent to replay the log`);
      }
      throw new Error(`${this.label}: cannot write to ${path.join(this.dir, logFileName(this.fileId))} at offset ${offset}: ${e.code ?? ''} ${e.message}; `
        + 'the commit is refused (free disk space or fix the data dir, the source will retry)');
    }
    this.size += length;
    this.bytesWritten += length;
    this.written++;
    return { fileId: this.fileId, offset, no: this.written, length };
  }

  private roll(): void {
    // The old file is cut to its log end and synced before anything goes to the new one: only the last
    // file can be torn or carry preallocated zeros.
    fs.ftruncateSync(this.fd, this.size);
    this.allocated = this.size;
    fs.fdatasyncSync(this.fd);
    // The new file first: when it cannot be made (a full disk), the old one stays the open one.
    const old = this.fd;
    this.create(this.fileId + 1);
    if (this.syncing) this.retired.push(old); else fs.closeSync(old);
    this.onRoll?.();
  }

  /** Resolves (after calling `apply`, in record order) once record `no` is on disk. */
  whenDurable(no: number, apply: () => void): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiters.push({ no, apply, resolve, reject });
      // Start the sync on the next turn, not now: commits made by the code that the last acknowledgement
      // woke up (a sink taking what a source just put, the source's next batch) then share one fdatasync.
      if (!this.syncing && !this.kickScheduled) {
        this.kickScheduled = true;
        setImmediate(() => {
          this.kickScheduled = false;
          this.kick();
        });
      }
    });
  }

  private kick(): void {
    if (this.syncing || this.waiters.length === 0) return;
    this.syncing = true;
    const target = this.written;
    this.syncs++;
    fs.fdatasync(this.fd, (err) => {
      this.syncing = false;
      for (const fd of this.retired.splice(0)) fs.closeSync(fd);
      if (err) {
        this.failed = new Error(`${this.label}: fdatasync of ${path.join(this.dir, logFileName(this.fileId))} failed (${err.message}); `
          + 'commits are refused until the agent restarts and replays the log');
        for (const w of this.waiters.splice(0)) w.reject(this.failed);
      } else {
        this.synced = target;
        let i = 0;
        while (i < this.waiters.length && this.waiters[i].no <= this.synced) {
          const w = this.waiters[i++];
          try {
            w.apply();
            w.resolve();
          } catch (applyErr) {
            w.reject(applyErr as Error);
          }
        }
        this.waiters.splice(0, i);
      }
      if (this.waiters.length > 0) this.kick();
      else for (const f of this.idleWaiters.splice(0)) f();
    });
  }

  /** Resolves when no commit is waiting for a sync. */
  idle(): Promise<void> {
    if (!this.syncing && !this.kickScheduled && this.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Records appended since open. */
  get records(): number {
    return this.written;
  }

  get failure(): Error | undefined {
    return this.failed;
  }

  /** Cuts the preallocated zeros off (when nothing failed) and closes the file. */
  close(): void {
    if (this.fd < 0) return;
    try {
      if (!this.failed && this.allocated > this.size) {
        fs.ftruncateSync(this.fd, this.size);
        fs.fdatasyncSync(this.fd);
      }
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}
