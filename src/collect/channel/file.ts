/**
 * The file channel (`type: file`, Flume's `org.apache.flume.channel.file.FileChannel`): durable.
 * Whatever a committed put holds and no committed take removed survives kill -9 and power loss, and so
 * does every committed marker (sources' read positions, sinks' delivered state).
 *
 * How: a write-ahead log (format and group commit in wal.ts) plus a checkpoint.
 * - put commit  → one put record (the whole batch and the marker), fdatasync, then visible to takers;
 * - take commit → one take record (the removed seq ranges and the marker), fdatasync, then gone for good
 *   (a lazy take commit resolves once written and is applied at the next fdatasync: CommitOptions);
 * - rollback    → nothing is written (a rolled-back take returns its events to the head in memory);
 * - checkpoint  → every `checkpointInterval` ms and on stop (format below). It lists, for every event
 *   still live (in the queue or in an open take), the put record holding it, plus the markers and the log
 *   position the state corresponds to. Log files older than that position which hold no live event are
 *   then deleted, so disk use follows the channel fill, and a restart reads only the live records and the
 *   log written since the checkpoint.
 * - start       → read the checkpoint (if any), load the live records it names, replay the log after its
 *   position. A torn last record of the last file (crash mid-write) is cut off with a warning naming file
 *   and offset; a bad record anywhere else is an error naming file and offset (the channel will not start
 *   on a log it cannot trust — the operator decides).
 *
 * Memory: the queue keeps the events themselves (bodies as Buffers, one payload buffer per put batch),
 * like the memory channel. Re-reading bodies from the log on take would save ~100 MB at the default
 * capacity of 1,000,000 ~100-byte events but cost a random read per batch on the hot path (the collector
 * must put+take a 2.16 M-line day in about a second), so memory it is; capacity bounds it.
 *
 * Checkpoint file `<checkpointDir>/checkpoint`, written to `checkpoint.tmp`, fsynced, renamed, dir fsynced:
 *
 *   checkpoint := "SCCKPT01" length:u32 crc:u32 body[length]          crc = CRC-32 of body
 *   body       := next-seq:u48 from-file:u32 from-offset:u48
 *                 marker-count:u32 (owner-len:u16 owner value-len:u32 value){marker-count}
 *                 piece-count:u32 (file:u32 offset:u48 record-first-seq:u48 start:u32 end:u32){piece-count}
 *
 * A piece is events [start, end) of the put record at file:offset, whose first event has seq
 * record-first-seq. Replay continues at from-file:from-offset numbering new puts from next-seq.
 *
 * Not done: `useDualCheckpoints`/`backupCheckpointDir` are accepted and ignored — the checkpoint is
 * replaced atomically (rename) and checked by CRC, so a crash never leaves it half-written; a backup
 * would only guard against media corruption. `dataDirs` may list several dirs; only the first is used.
 * `keep-alive` is accepted and ignored (puts never block; sources wait with `waitForSpace`).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fsyncDirSync, processRunning, type Logger } from '../../core/index.ts';
import type { EventBatch } from '../batch.ts';
import type { ChannelTransaction } from '../types.ts';
import { ChannelStateError, QueuedChannel, type Piece, type PersistRequest, type StoredBatch } from './queue.ts';
import {
  FILE_HEADER, FILE_MAGIC, LogCorruptError, decodePut, decodeTake, encodePut, encodeTake,
  isPut, logFileName, recordBytes, type EncodedRecord, parseLogFileName,
} from './wal.ts';
import { checked, fileChannelLimits } from './config.ts';
import { LogScanner, readFully, readRecord } from './wal-read.ts';
import { LogWriter, writeFully } from './wal-writer.ts';

/** The directories, and the limits of the file channel's schema (config.ts: defaults apply to those left out). */
export interface FileChannelOptions {
  checkpointDir: string;
  dataDir: string;
  capacity?: number;
  transactionCapacity?: number;
  maxFileSize?: number;
  /** Milliseconds between checkpoints; 0 = only on stop. */
  checkpointInterval?: number;
  minimumRequiredSpace?: number;
  /** Write a checkpoint on stop (Flume's checkpointOnClose). */
  checkpointOnClose?: boolean;
  log?: Logger;
}

export class DiskSpaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiskSpaceError';
  }
}

const CHECKPOINT_MAGIC = Buffer.from('SCCKPT01', 'latin1');
const LOCK_FILE = 'in_use.lock';
/** Data dirs locked by this process (a lock file naming our own pid is stale unless listed here). */
const lockedHere = new Set<string>();

interface Position { fileId: number; offset: number }

export class FileChannel extends QueuedChannel {
  readonly checkpointDir: string;
  readonly dataDir: string;
  readonly maxFileSize: number;
  readonly checkpointInterval: number;
  readonly minimumRequiredSpace: number;
  readonly checkpointOnClose: boolean;
  private readonly log: Logger | undefined;
  private writer: LogWriter | undefined;
  /** Seq of the next event a put record will get (log order). */
  private writeSeq = 0;
  /** State the in-memory queue reflects: every record before `appliedPos` applied, none after. */
  private appliedPos: Position = { fileId: 1, offset: FILE_HEADER };
  private appliedSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private checkpointRunning: Promise<void> | undefined;
  private inflight = 0;
  private freeBytes = Infinity;
  private freeCheckedAt = 0;
  private writtenAtFreeCheck = 0;
  /** Figures for tests, metrics and the benchmark. */
  readonly stats = { replayedRecords: 0, truncatedTails: 0, checkpoints: 0, deletedFiles: 0 };

  constructor(name: string, opts: FileChannelOptions) {
    const c = checked(name, fileChannelLimits, opts);
    super(name, c.capacity, c.transactionCapacity);
    this.checkpointDir = opts.checkpointDir;
    this.dataDir = opts.dataDir;
    this.maxFileSize = c.maxFileSize;
    this.checkpointInterval = c.checkpointInterval;
    this.minimumRequiredSpace = c.minimumRequiredSpace;
    this.checkpointOnClose = c.checkpointOnClose;
    this.log = opts.log;
    if (this.checkpointDir === this.dataDir) throw new Error(`channel ${name}: checkpointDir and dataDirs must differ (both ${this.dataDir})`);
  }

  private where(fileId: number, offset?: number): string {
    return `${path.join(this.dataDir, logFileName(fileId))}${offset === undefined ? '' : ` at offset ${offset}`}`;
  }

  async start(): Promise<void> {
    if (this.state === 'running') return;
    if (this.state === 'stopped') throw new ChannelStateError(`channel ${this.name}: cannot restart a stopped channel; create a new one on the same dirs`);
    fs.mkdirSync(this.checkpointDir, { recursive: true });
    fs.mkdirSync(this.dataDir, { recursive: true });
    this.lock();
    try {
      this.replay();
    } catch (err) {
      this.unlock();
      throw err;
    }
    this.state = 'running';
    if (this.checkpointInterval > 0) {
      this.timer = setInterval(() => {
        this.checkpoint().catch((err: Error) => this.log?.error({ err, channel: this.name }, `channel ${this.name}: checkpoint failed: ${err.message}`));
      }, this.checkpointInterval);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') { this.state = 'stopped'; return; }
    this.state = 'stopped';
    clearInterval(this.timer);
    try {
      if (this.writer) await this.writer.idle();
      while (this.checkpointRunning) await this.checkpointRunning.catch(() => undefined);
      if (this.writer && !this.writer.failure && this.checkpointOnClose) await this.checkpoint();
    } finally {
      this.writer?.close();
      this.unlock();
      this.releaseWaiters();
    }
  }

  override transaction(): ChannelTransaction {
    // After a failed fdatasync nothing can be committed; say so at once rather than at commit.
    const failure = this.writer?.failure;
    if (failure) throw failure;
    return super.transaction();
  }

  // ---- lock ----

  private lock(): void {
    const file = path.join(this.dataDir, LOCK_FILE);
    const key = path.resolve(this.dataDir);
    let holder: number | undefined;
    try {
      holder = Number(fs.readFileSync(file, 'utf8').trim());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (holder !== undefined && Number.isInteger(holder) && holder > 0) {
      const alive = holder === process.pid ? lockedHere.has(key) : processRunning(holder);
      if (alive) {
        throw new ChannelStateError(`channel ${this.name}: ${this.dataDir} is in use by process ${holder} (${file}); `
          + 'stop that agent first, or delete the lock file if that process is not an agent');
      }
      this.log?.warn({ channel: this.name }, `channel ${this.name}: taking over the stale lock of process ${holder} (${file})`);
    }
    try {
      // Exclusive create when there was no lock: two agents starting together cannot both get it.
      fs.writeFileSync(file, `${process.pid}\n`, { flag: holder === undefined ? 'wx' : 'w' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ChannelStateError(`channel ${this.name}: ${this.dataDir} was locked by another process just now (${file}); stop that agent first`);
      }
      throw err;
    }
    lockedHere.add(key);
  }

  private unlock(): void {
    const key = path.resolve(this.dataDir);
    if (!lockedHere.delete(key)) return;
    try {
      fs.unlinkSync(path.join(this.dataDir, LOCK_FILE));
    } catch (err) {
      this.log?.warn({ err, channel: this.name }, `channel ${this.name}: cannot remove the lock file`);
    }
  }

  // ---- replay ----

  private logFiles(): number[] {
    return fs.readdirSync(this.dataDir).map(parseLogFileName).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  }

  private replay(): void {
    const files = this.logFiles();
    const ckpt = this.readCheckpoint();
    let from: Position;
    if (ckpt) {
      from = ckpt.from;
      this.writeSeq = ckpt.nextSeq;
      for (const [o, v] of ckpt.markers) this.markers.set(o, v);
      this.loadPieces(ckpt.pieces);
      if (!files.includes(from.fileId) && (files.length > 0 || from.offset !== FILE_HEADER)) {
        throw new LogCorruptError(`channel ${this.name}: the checkpoint continues in ${this.where(from.fileId, from.offset)}, which is missing; `
          + 'restore the data dir, or move the checkpoint dir away to start from the log files alone');
      }
    } else {
      if (files.length > 0 && files[0] !== 1) {
        throw new LogCorruptError(`channel ${this.name}: no checkpoint in ${this.checkpointDir} but the log starts at ${this.where(files[0])} `
          + '(earlier files were deleted after a checkpoint that is now missing); restore the checkpoint dir');
      }
      from = { fileId: files[0] ?? 1, offset: FILE_HEADER };
    }
    const toScan = files.filter((id) => id >= from.fileId);
    let appendAt: Position | undefined;
    for (let i = 0; i < toScan.length; i++) {
      const id = toScan[i];
      const isLast = i === toScan.length - 1;
      const end = this.replayFile(id, id === from.fileId ? from.offset : FILE_HEADER, isLast);
      if (isLast) appendAt = { fileId: id, offset: end };
    }
    this.appliedSeq = this.writeSeq;
    this.writer = new LogWriter(this.dataDir, this.maxFileSize, `channel ${this.name}`);
    // A checkpoint after every roll (besides the interval): files whose events are all taken are deleted
    // within one file's worth of writing, whatever checkpointInterval says.
    this.writer.onRoll = () => {
      setImmediate(() => {
        if (this.state !== 'running') return;
        this.checkpoint().catch((err: Error) => this.log?.error({ err, channel: this.name }, `channel ${this.name}: checkpoint failed: ${err.message}`));
      });
    };
    if (appendAt) {
      this.writer.open(appendAt.fileId, appendAt.offset);
      this.appliedPos = appendAt;
    } else {
      this.writer.open(from.fileId, undefined);
      this.appliedPos = { fileId: from.fileId, offset: FILE_HEADER };
    }
    this.log?.info({ channel: this.name, events: this.size(), records: this.stats.replayedRecords }, `channel ${this.name}: replayed ${this.size()} events`);
  }

  /** Loads the events a checkpoint lists (each piece's put record read once). */
  private loadPieces(pieces: CheckpointPiece[]): void {
    const fds = new Map<number, { fd: number; size: number }>();
    let cached: { fileId: number; offset: number; batch: StoredBatch } | undefined;
    try {
      for (const p of pieces) {
        if (!cached || cached.fileId !== p.fileId || cached.offset !== p.offset) {
          let f = fds.get(p.fileId);
          if (!f) {
            const file = path.join(this.dataDir, logFileName(p.fileId));
            let fd: number;
            try {
              fd = fs.openSync(file, 'r');
            } catch (err) {
              throw new LogCorruptError(`channel ${this.name}: the checkpoint lists events in ${file}, which cannot be read (${(err as Error).message}); restore the data dir`);
            }
            f = { fd, size: fs.fstatSync(fd).size };
            fds.set(p.fileId, f);
          }
          const r = readRecord(f.fd, p.offset, f.size);
          const where = this.where(p.fileId, p.offset);
          if (!r.ok) throw new LogCorruptError(`channel ${this.name}: the checkpoint lists events in the record at ${where}, which is bad: ${r.reason}`);
          if (!isPut(r.rec.type)) throw new LogCorruptError(`channel ${this.name}: the checkpoint lists events in ${where}, which is not a put record`);
          const { events } = decodePut(r.rec.type, r.rec.payload, where);
          cached = { fileId: p.fileId, offset: p.offset, batch: { events, firstSeq: p.firstSeq, fileId: p.fileId, offset: p.offset } };
        }
        if (p.end > cached.batch.events.count || p.start >= p.end) {
          throw new LogCorruptError(`channel ${this.name}: the checkpoint lists events ${p.start}..${p.end} of ${this.where(p.fileId, p.offset)}, which holds ${cached.batch.events.count}`);
        }
        this.pieces.push({ batch: cached.batch, start: p.start, end: p.end });
        this.available += p.end - p.start;
      }
    } finally {
      for (const f of fds.values()) fs.closeSync(f.fd);
    }
  }

  /** Replays one log file from `start`; returns the offset after its last good record. */
  private replayFile(fileId: number, start: number, isLast: boolean): number {
    const file = path.join(this.dataDir, logFileName(fileId));
    const fd = fs.openSync(file, isLast ? 'r+' : 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const head = Buffer.alloc(FILE_HEADER);
      const got = readFully(fd, head, 0);
      if (got < FILE_HEADER || !head.subarray(0, 8).equals(FILE_MAGIC) || head.readUInt32LE(8) !== fileId) {
        if (isLast && size <= FILE_HEADER) {
          // Crash while the file was being created: start it again.
          this.log?.warn({ channel: this.name, file }, `channel ${this.name}: ${file} has an incomplete header (${size} bytes); rewriting it`);
          const fresh = Buffer.alloc(FILE_HEADER);
          FILE_MAGIC.copy(fresh, 0);
          fresh.writeUInt32LE(fileId, 8);
          fs.ftruncateSync(fd, 0);
          writeFully(fd, fresh, 0);
          fs.fdatasyncSync(fd);
          this.stats.truncatedTails++;
          return FILE_HEADER;
        }
        throw new LogCorruptError(`channel ${this.name}: ${file} is not a log file of this channel (bad header); move it out of ${this.dataDir}`);
      }
      const scanner = new LogScanner(fd, size);
      let pos = start;
      while (pos < size) {
        const r = scanner.read(pos);
        if (!r.ok && isLast && onlyZeros(fd, pos, size)) return pos; // the preallocated end of the log
        if (!r.ok) {
          // A record that is bad but followed by a good one is not a torn tail: corruption in the middle.
          const next = isLast ? this.goodRecordAfter(fd, pos, size) : undefined;
          if (!isLast || next !== undefined) {
            throw new LogCorruptError(`channel ${this.name}: corrupt record in ${file} at offset ${pos}: ${r.reason}`
              + `${next !== undefined ? ` (a valid record follows at offset ${next})` : ' (not the last log file)'}; `
              + 'the log cannot be trusted past this point: restore it, or truncate the file at this offset to drop everything after it');
          }
          this.log?.warn({ channel: this.name, file, offset: pos }, `channel ${this.name}: torn record at the end of ${file} at offset ${pos} (${r.reason}); `
            + `truncating the log there (${size - pos} bytes of an unacknowledged commit dropped)`);
          fs.ftruncateSync(fd, pos);
          fs.fdatasyncSync(fd);
          this.stats.truncatedTails++;
          return pos;
        }
        this.applyRecord(r.rec.type, r.rec.payload, fileId, pos);
        this.stats.replayedRecords++;
        pos = r.rec.end;
      }
      return pos;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The offset of a valid record right after the bad one at `pos`, if its length field can be believed. */
  private goodRecordAfter(fd: number, pos: number, size: number): number | undefined {
    if (size - pos < 9) return undefined;
    const head = Buffer.alloc(9);
    readFully(fd, head, pos);
    const next = pos + 9 + head.readUInt32LE(1);
    if (next >= size) return undefined;
    const r = readRecord(fd, next, size);
    return r.ok ? next : undefined;
  }

  private applyRecord(type: number, payload: Buffer, fileId: number, offset: number): void {
    const where = this.where(fileId, offset);
    if (isPut(type)) {
      const { marker, events } = decodePut(type, payload, where);
      if (events.count > 0) this.appendBatch({ events, firstSeq: this.writeSeq, fileId, offset });
      this.writeSeq += events.count;
      if (marker) this.markers.set(marker.owner, marker.value);
    } else {
      const { marker, ranges } = decodeTake(payload, where);
      for (const r of ranges) {
        const found = this.removeRange(r.first, r.count);
        if (found !== r.count) {
          throw new LogCorruptError(`channel ${this.name}: the take record at ${where} removes events ${r.first}..${r.first + r.count - 1}, `
            + `but only ${found} of them are in the channel; the log and checkpoint disagree: restore both`);
        }
      }
      if (marker) this.markers.set(marker.owner, marker.value);
    }
  }

  // ---- commits ----

  protected override checkPut(_events: EventBatch): void {
    if (!this.writer) return;
    if (this.writer.failure) throw this.writer.failure;
    const now = Date.now();
    const since = this.writer.bytesWritten - this.writtenAtFreeCheck;
    if (now - this.freeCheckedAt > 1000 || since > 64 << 20) {
      const s = fs.statfsSync(this.dataDir);
      this.freeBytes = s.bavail * s.bsize;
      this.freeCheckedAt = now;
      this.writtenAtFreeCheck = this.writer.bytesWritten;
    }
    const free = this.freeBytes - (this.writer.bytesWritten - this.writtenAtFreeCheck);
    if (free < this.minimumRequiredSpace) {
      throw new DiskSpaceError(`channel ${this.name}: only ${Math.floor(free / 1048576)} MB free on the disk of ${this.dataDir}, `
        + `below minimumRequiredSpace (${Math.floor(this.minimumRequiredSpace / 1048576)} MB); puts are refused until space is freed `
        + '(the source will retry)');
    }
  }

  protected persist(req: PersistRequest, apply: (batch: StoredBatch | undefined) => void): Promise<void> {
    const writer = this.writer;
    if (!writer) return Promise.reject(new ChannelStateError(`channel ${this.name} is not started`));
    let rec: EncodedRecord;
    try {
      rec = req.kind === 'put' ? encodePut(req.events, req.marker) : encodeTake(req.ranges, req.marker);
      const bytes = recordBytes(rec);
      if (bytes > this.maxFileSize - FILE_HEADER) {
        throw new Error(`channel ${this.name}: a batch of ${bytes} bytes does not fit in maxFileSize ${this.maxFileSize}; raise maxFileSize or lower the batch size`);
      }
    } catch (err) {
      return Promise.reject(err as Error);
    }
    let at: { fileId: number; offset: number; no: number; length: number };
    try {
      at = writer.append(rec);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const firstSeq = this.writeSeq;
    const n = req.kind === 'put' ? req.events.count : 0;
    this.writeSeq += n;
    const end: Position = { fileId: at.fileId, offset: at.offset + at.length };
    this.inflight++;
    const durable = writer.whenDurable(at.no, () => {
      this.appliedPos = end;
      this.appliedSeq = firstSeq + n;
      apply(req.kind === 'put' ? { events: req.events, firstSeq, fileId: at.fileId, offset: at.offset } : undefined);
    }).finally(() => { this.inflight--; });
    if (req.kind === 'take' && req.lazy) {
      // Written (safe from a process crash); applied, in order, when the next fsync makes it durable. A
      // failed fsync poisons the log: every later commit is refused and a restart replays it.
      durable.catch((err: Error) => this.log?.error({ err, channel: this.name }, `channel ${this.name}: a lazy take commit did not reach the disk: ${err.message}`));
      return Promise.resolve();
    }
    return durable;
  }

  /** Bytes appended to the log since start. */
  bytesWritten(): number {
    return this.writer?.bytesWritten ?? 0;
  }

  /** Commits written and fdatasync calls made since start (group commit makes the second smaller). */
  syncFigures(): { records: number; syncs: number } {
    return { records: this.writer?.records ?? 0, syncs: this.writer?.syncs ?? 0 };
  }

  /** Log file ids currently on disk (for tests and metrics). */
  files(): number[] {
    return this.logFiles();
  }

  // ---- checkpoint ----

  /**
   * Writes a checkpoint of the applied state and deletes the log files it no longer needs. Runs one at a
   * time; a call during a running checkpoint waits for it and then runs again (its state is newer).
   */
  async checkpoint(): Promise<void> {
    while (this.checkpointRunning) await this.checkpointRunning;
    const run = this.writeCheckpoint();
    this.checkpointRunning = run;
    try {
      await run;
    } finally {
      this.checkpointRunning = undefined;
    }
  }

  private async writeCheckpoint(): Promise<void> {
    const writer = this.writer;
    if (!writer) return;
    if (writer.failure) throw writer.failure;
    // Snapshot, synchronously: the applied position, the seq there, markers, live pieces.
    const from = { ...this.appliedPos };
    const nextSeq = this.appliedSeq;
    const markers = [...this.markers];
    const live = this.livePieces();
    const body = encodeCheckpointBody(nextSeq, from, markers, live);
    const file = Buffer.allocUnsafe(16 + body.length);
    CHECKPOINT_MAGIC.copy(file, 0);
    file.writeUInt32LE(body.length, 8);
    file.writeUInt32LE(zlib.crc32(body), 12);
    body.copy(file, 16);
    const tmp = path.join(this.checkpointDir, 'checkpoint.tmp');
    const fh = await fs.promises.open(tmp, 'w');
    try {
      await fh.writeFile(file);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, path.join(this.checkpointDir, 'checkpoint'));
    fsyncDirSync(this.checkpointDir);
    this.stats.checkpoints++;
    // Files before the checkpoint position that hold no live event are no longer needed.
    const referenced = new Set(live.map((p) => p.batch.fileId));
    for (const id of this.logFiles()) {
      if (id >= from.fileId || id >= writer.fileId || referenced.has(id)) continue;
      await fs.promises.unlink(path.join(this.dataDir, logFileName(id)));
      this.stats.deletedFiles++;
    }
  }

  private readCheckpoint(): { nextSeq: number; from: Position; markers: [string, string][]; pieces: CheckpointPiece[] } | undefined {
    const file = path.join(this.checkpointDir, 'checkpoint');
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const bad = (why: string) => new LogCorruptError(`channel ${this.name}: checkpoint ${file} is unreadable: ${why}; `
      + 'restore it, or delete it to replay from the log files (only possible while log-1 still exists)');
    if (buf.length < 16 || !buf.subarray(0, 8).equals(CHECKPOINT_MAGIC)) throw bad('bad header');
    const len = buf.readUInt32LE(8);
    if (16 + len !== buf.length) throw bad(`length ${len} does not match the file size ${buf.length}`);
    const body = buf.subarray(16);
    if (zlib.crc32(body) !== buf.readUInt32LE(12)) throw bad('CRC mismatch');
    try {
      return decodeCheckpointBody(body);
    } catch (err) {
      throw bad((err as Error).message);
    }
  }

  /** For tests: the in-flight commit count (commits waiting for their fdatasync). */
  pendingCommits(): number {
    return this.inflight;
  }
}

interface CheckpointPiece { fileId: number; offset: number; firstSeq: number; start: number; end: number }

function encodeCheckpointBody(nextSeq: number, from: Position, markers: [string, string][], live: Piece[]): Buffer {
  let size = 6 + 4 + 6 + 4 + 4 + live.length * 24;
  for (const [o, v] of markers) size += 6 + Buffer.byteLength(o) + Buffer.byteLength(v);
  const b = Buffer.allocUnsafe(size);
  let off = 0;
  b.writeUIntLE(nextSeq, off, 6); off += 6;
  b.writeUInt32LE(from.fileId, off); off += 4;
  b.writeUIntLE(from.offset, off, 6); off += 6;
  b.writeUInt32LE(markers.length, off); off += 4;
  for (const [o, v] of markers) {
    const ol = b.write(o, off + 2); b.writeUInt16LE(ol, off); off += 2 + ol;
    const vl = b.write(v, off + 4); b.writeUInt32LE(vl, off); off += 4 + vl;
  }
  b.writeUInt32LE(live.length, off); off += 4;
  for (const p of live) {
    b.writeUInt32LE(p.batch.fileId, off);
    b.writeUIntLE(p.batch.offset, off + 4, 6);
    b.writeUIntLE(p.batch.firstSeq, off + 10, 6);
    b.writeUInt32LE(p.start, off + 16);
    b.writeUInt32LE(p.end, off + 20);
    off += 24;
  }
  return b.subarray(0, off);
}

function decodeCheckpointBody(b: Buffer): { nextSeq: number; from: Position; markers: [string, string][]; pieces: CheckpointPiece[] } {
  let off = 0;
  const need = (n: number) => { if (off + n > b.length) throw new Error(`body ends early at ${off}`); };
  need(20);
  const nextSeq = b.readUIntLE(off, 6); off += 6;
  const from = { fileId: b.readUInt32LE(off), offset: b.readUIntLE(off + 4, 6) }; off += 10;
  const mc = b.readUInt32LE(off); off += 4;
  const markers: [string, string][] = [];
  for (let i = 0; i < mc; i++) {
    need(2); const ol = b.readUInt16LE(off); off += 2; need(ol);
    const o = b.toString('utf8', off, off + ol); off += ol;
    need(4); const vl = b.readUInt32LE(off); off += 4; need(vl);
    markers.push([o, b.toString('utf8', off, off + vl)]); off += vl;
  }
  need(4);
  const pc = b.readUInt32LE(off); off += 4;
  need(pc * 24);
  const pieces: CheckpointPiece[] = [];
  for (let i = 0; i < pc; i++) {
    pieces.push({ fileId: b.readUInt32LE(off), offset: b.readUIntLE(off + 4, 6), firstSeq: b.readUIntLE(off + 10, 6), start: b.readUInt32LE(off + 16), end: b.readUInt32LE(off + 20) });
    off += 24;
  }
  if (off !== b.length) throw new Error(`${b.length - off} stray bytes`);
  return { nextSeq, from, markers, pieces };
}

/** Whether the file holds only zero bytes from `from` to `size`. */
function onlyZeros(fd: number, from: number, size: number): boolean {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let pos = from; pos < size;) {
    const n = readFully(fd, buf.subarray(0, Math.min(buf.length, size - pos)), pos);
    if (n === 0) return true;
    for (let i = 0; i < n; i++) if (buf[i] !== 0) return false;
    pos += n;
  }
  return true;
}
