/**
 * The lake sink (Flume's HDFS sink, type `hdfs`): writes event bodies as text lines into date-partitioned
 * files under the lake root, exactly once across crashes (kill -9 included).
 *
 * ## Files
 * A bucket is one expanded (`hdfs.path`, `hdfs.filePrefix`) pair (escapes: escape.ts). Each bucket has at
 * most one open file, named as Flume names them, `<filePrefix>.<counter><fileSuffix>[.gz]`, the counter
 * starting at the open time in epoch ms. While open, the file is the *in-use* name
 * `<inUsePrefix><name>.<agent>_<sink><inUseSuffix>` (default suffix `.tmp`, which the lake readers skip;
 * characters other than letters, digits, `_`, `-` in the names become `_`), e.g.
 * `car-batch-log.1704067200000.log.SmartCar_Agent_HdfsSink.tmp`: the agent and sink names let a restarted
 * sink recognise its own leftovers (Flume's in-use name has no such tag). A file is closed
 * (renamed to its final name) when it reaches `rollSize` bytes or `rollCount` events, after `rollInterval`
 * seconds open or `idleTimeout` seconds without writes, when more than `maxOpenFiles` are open, or on stop.
 *
 * ## Where the code is
 * Routing events to buckets (files by path and prefix) is in lake-route.ts; the exactly-once protocol, the
 * journal of files opened and crash recovery are in lake-journal.ts; this file holds the sink's config, its
 * batch loop and the files it has open.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { z } from 'zod';
import { fsyncDir } from '../../core/index.ts';
import type { ComponentContext, SinkFactory } from '../registry.ts';
import { countOf } from '../batch.ts';
import { bool } from '../props.ts';
import type { Channel, Sink } from '../types.ts';
import type { RoundUnit } from './escape.ts';
import { LakeJournal, recoverLake, type LakeMarker, type RecoveryReport } from './lake-journal.ts';
import { LakeRouter, type Bucket } from './lake-route.ts';
import { boundSinkMetrics, type SinkMetrics } from './metrics.ts';

const gzip = promisify(zlib.gzip);

const seconds = (d: number) => z.coerce.number().min(0).default(d);
const positiveInt = (d: number) => z.coerce.number().int().positive().default(d);
const GZIP = ['gzip', 'GzipCodec', 'org.apache.hadoop.io.compress.GzipCodec'];

export const lakeSinkSchema = z.object({
  'hdfs.path': z.string().min(1).describe('Directory of the files, with Flume\'s escapes (%{header}, %Y %m %d %H %M %S, %s …). A scheme and host (hdfs://nn:8020) and a leading /pilot-pjt are dropped; the rest is relative to the lake root <data>/lake. An event whose path needs a time it lacks (no timestamp header, useLocalTimeStamp false) goes to the dead letters instead of stalling the channel.'),
  'hdfs.filePrefix': z.string().default('FlumeData').describe('File name prefix (escapes allowed); a file is named <prefix>.<counter><fileSuffix>, counter = its open time in epoch ms.'),
  'hdfs.fileSuffix': z.string().default('').describe('File name suffix, e.g. .log (gzip files also get .gz).'),
  'hdfs.inUsePrefix': z.string().default('').describe('Name prefix while a file is open.'),
  'hdfs.inUseSuffix': z.string().default('.tmp').describe('Name suffix while a file is open (lake readers skip .tmp). The in-use name also carries .<agent>_<sink>, so a restarted sink recognises its own leftovers.'),
  'hdfs.rollInterval': seconds(30).describe('Seconds after which an open file is closed (renamed); 0 = never.'),
  'hdfs.rollSize': z.coerce.number().int().min(0).default(1024).describe('Bytes written (before compression) after which a file is closed; 0 = never.'),
  'hdfs.rollCount': z.coerce.number().int().min(0).default(10).describe('Events after which a file is closed; 0 = never.'),
  'hdfs.idleTimeout': seconds(0).describe('Seconds without writes after which a file is closed; 0 = never.'),
  'hdfs.batchSize': positiveInt(100).describe('Events per take transaction: written, fdatasynced, then committed with the files\' lengths.'),
  // Flume's default is SequenceFile, a Hadoop binary format the lake's SQL engine cannot read: we default
  // to DataStream and refuse SequenceFile with what to use instead.
  'hdfs.fileType': z.string().default('DataStream').refine((v) => v !== 'SequenceFile', {
    message: 'hdfs.fileType = SequenceFile is not supported (the lake holds text files the SQL engine reads); use hdfs.fileType = DataStream, or CompressedStream with hdfs.codeC = gzip',
  }).pipe(z.enum(['DataStream', 'CompressedStream'])).describe('DataStream (text lines) or CompressedStream (gzip, needs hdfs.codeC). Flume\'s default, SequenceFile, is refused: the lake holds text files its SQL engine reads.'),
  'hdfs.codeC': z.string().refine((v) => GZIP.includes(v), { message: 'only the gzip codec is supported; set hdfs.codeC = gzip' }).optional().describe('gzip only (also GzipCodec, org.apache.hadoop.io.compress.GzipCodec): one gzip member per file per batch.'),
  'hdfs.writeFormat': z.enum(['Text', 'Writable']).default('Text').describe('Text. Writable only matters for SequenceFile: accepted with a warning, text is written.'),
  'hdfs.useLocalTimeStamp': bool(false).describe('Use the sink\'s clock instead of the event\'s timestamp header for the time escapes.'),
  'hdfs.timeZone': z.string().refine((v) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: v });
      return true;
    } catch {
      return false;
    }
  }, { message: 'unknown time zone; use an IANA name such as UTC or Asia/Seoul' }).optional().describe('IANA time zone of the time escapes (UTC, Asia/Seoul …); unset = the process\'s zone.'),
  'hdfs.round': bool(false).describe('Round the time down to roundValue roundUnits before expanding the escapes.'),
  'hdfs.roundValue': positiveInt(1).describe('Rounding step (hdfs.round).'),
  'hdfs.roundUnit': z.enum(['second', 'minute', 'hour']).default('second').describe('Rounding unit (hdfs.round).'),
  'hdfs.maxOpenFiles': positiveInt(5000).describe('Most open files; beyond it the least recently written are closed.'),
  // Accepted for compatibility with Flume agent files; they tune HDFS clients and thread pools we do not have.
  'hdfs.callTimeout': z.coerce.number().optional().describe('Accepted, ignored (an HDFS client setting).'),
  'hdfs.threadsPoolSize': z.coerce.number().optional().describe('Accepted, ignored (an HDFS client setting).'),
  'hdfs.rollTimerPoolSize': z.coerce.number().optional().describe('Accepted, ignored (an HDFS client setting).'),
  'hdfs.minBlockReplicas': z.coerce.number().optional().describe('Accepted, ignored (an HDFS client setting).'),
  'hdfs.closeTries': z.coerce.number().optional().describe('Accepted, ignored (an HDFS client setting).'),
  'hdfs.retryInterval': z.coerce.number().optional().describe('Accepted, ignored (an HDFS client setting).'),
  serializer: z.string().default('TEXT').refine((v) => v.toUpperCase() === 'TEXT', { message: 'only serializer = TEXT (the event body as a line) is supported' }).describe('TEXT only: the event body as a line.'),
  'serializer.appendNewline': bool(true).describe('End each body with a newline.'),
}).strict().superRefine((c, ctx) => {
  if (c['hdfs.fileType'] === 'CompressedStream' && !c['hdfs.codeC']) ctx.addIssue({ code: 'custom', path: ['hdfs.codeC'], message: 'hdfs.fileType = CompressedStream needs hdfs.codeC = gzip' });
}).describe('Writes event bodies as text lines into date-partitioned files under the lake (<data>/lake), exactly once across crashes: a batch is written and fdatasynced before its take commits with the open files\' lengths, files are renamed from their in-use name only after that commit, and on start recovery truncates, renames or deletes whatever a crash left.');

export type LakeSinkConfig = z.output<typeof lakeSinkSchema>;

/** An open lake file. `length` ≥ `committed`; they differ only inside a batch. */
interface OpenFile {
  key: string;
  dir: string;
  dirAbs: string;
  inUse: string;
  final: string;
  fh: fsp.FileHandle;
  length: number;
  committed: number;
  events: number;
  rawBytes: number;
  openedAt: number;
  lastWrite: number;
  /** Reached rollSize/rollCount: takes no more events, renamed after the commit covering its bytes. */
  full: boolean;
}

export { lakeRelative } from './lake-route.ts';
export type { RecoveryReport } from './lake-journal.ts';

export class LakeSink implements Sink {
  readonly name: string;
  /** Recognises this sink's in-use files: `<inUsePrefix>…<tagSuffix>`. */
  readonly tagSuffix: string;
  private readonly lakeRoot: string;
  private readonly router: LakeRouter;
  private readonly journal: LakeJournal;
  private readonly ext: string;
  private readonly m: SinkMetrics;
  /** Every open file, including full ones waiting for the commit that lets them be renamed. */
  private readonly open = new Set<OpenFile>();
  /** The file each bucket writes to (not full). */
  private readonly current = new Map<string, OpenFile>();
  private readonly madeDirs = new Set<string>();
  private lastMarker: string | undefined;
  private lastCounter = 0;
  private needsRecovery = false;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private started = false;
  /** What the last start() repaired (for status and tests). */
  lastRecovery: RecoveryReport | undefined;

  constructor(private readonly cfg: LakeSinkConfig, private readonly channel: Channel, private readonly ctx: ComponentContext) {
    this.name = ctx.name;
    this.lakeRoot = path.resolve(ctx.lakeRoot);
    const escapeOpts = {
      timeZone: cfg['hdfs.timeZone'], useLocalTimeStamp: cfg['hdfs.useLocalTimeStamp'],
      round: cfg['hdfs.round'], roundValue: cfg['hdfs.roundValue'], roundUnit: cfg['hdfs.roundUnit'] as RoundUnit,
    };
    this.router = new LakeRouter(this.lakeRoot, cfg['hdfs.path'], cfg['hdfs.filePrefix'], escapeOpts, this.name);
    this.ext = cfg['hdfs.fileType'] === 'CompressedStream' ? '.gz' : '';
    this.tagSuffix = `.${`${ctx.agent}.${ctx.name}`.replace(/[^A-Za-z0-9_-]/g, '_')}${cfg['hdfs.inUseSuffix']}`;
    this.journal = new LakeJournal(path.join(ctx.stateDir, `${ctx.name.replace(/[^A-Za-z0-9_-]/g, '_')}.lake-journal`));
    this.m = boundSinkMetrics(ctx.agent, ctx.name);
    if (cfg['hdfs.writeFormat'] === 'Writable') ctx.log.warn({ sink: this.name }, 'hdfs.writeFormat = Writable has no meaning for text files; writing event bodies as text lines');
  }

  async start(): Promise<void> {
    if (this.started || this.timer) return;
    await this.locked(async () => {
      if (this.started) return;
      this.lastRecovery = await this.recover(this.channel.marker(this.name));
      this.started = true;
    });
    if (this.timer) return;
    const roll = [this.cfg['hdfs.rollInterval'], this.cfg['hdfs.idleTimeout']].filter((s) => s > 0);
    if (roll.length) {
      const every = Math.max(50, Math.min(1000, ...roll.map((s) => s * 250)));
      this.timer = setInterval(() => {
        this.locked(() => this.closeExpired(Date.now())).catch((err: Error) => {
          this.needsRecovery = true;
          this.ctx.log.error({ sink: this.name, err: err.message }, 'closing an expired lake file failed; the sink will recover before its next batch');
        });
      }, every);
      this.timer.unref();
    }
  }

  process(): Promise<number> {
    return this.locked(() => this.batch());
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.locked(async () => {
      if (!this.started) return;
      this.started = false;
      if (this.needsRecovery) {
        await this.recover(this.lastMarker);
      } else {
        for (const f of [...this.open]) await this.close(f);
        // A fresh marker with no open files; if the channel already stopped, recovery copes with the stale one.
        const marker = JSON.stringify({ v: 1, files: [] } satisfies LakeMarker);
        try {
          const tx = this.channel.transaction();
          await tx.commit({ owner: this.name, value: marker });
          this.lastMarker = marker;
        } catch (err) {
          this.ctx.log.debug({ sink: this.name, err: (err as Error).message }, 'could not commit the final marker');
        }
      }
      await this.journal.close();
    });
  }

  /** Open files, for tests and status: in-use path → committed length. */
  openFiles(): { path: string; final: string; committed: number }[] {
    return [...this.open].map((f) => ({ path: path.join(f.dirAbs, f.inUse), final: path.join(f.dirAbs, f.final), committed: f.committed }));
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.chain.then(fn);
    this.chain = r.catch(() => undefined);
    return r;
  }

  private async batch(): Promise<number> {
    if (!this.started) throw new Error(`lake sink ${this.name} is not started`);
    if (this.needsRecovery) await this.recover(this.lastMarker);
    const now = Date.now();
    try {
      await this.closeExpired(now);
    } catch (err) {
      this.needsRecovery = true;
      throw err;
    }
    const tx = this.channel.transaction();
    let count = 0;
    let marker: string | undefined;
    try {
      const taken = tx.takeBatches(this.cfg['hdfs.batchSize']);
      count = countOf(taken);
      this.m.taken.inc(count);
      if (count === 0) {
        await tx.commit();
        return 0;
      }
      const { buckets, dead } = this.router.route(taken, now);
      const touched = new Set<OpenFile>();
      let bytes = 0;
      for (const b of buckets.values()) bytes += await this.writeBucket(b, now, touched);
      await Promise.all([...touched].map((f) => f.fh.datasync()));
      for (const [reason, list] of dead) {
        this.ctx.deadLetters.write(this.name, reason, list);
        this.m.deadLetters.inc(list.length);
      }
      marker = this.markerValue();
      try {
        // Lazy: the files' bytes are already on disk; if a power cut loses this take record, recovery cuts
        // the files back to the previous durable marker and the events come again — still exactly once.
        await tx.commit({ owner: this.name, value: marker }, { lazy: true });
      } catch (err) {
        // A commit may fail after it landed (e.g. an fsync error reported late): the marker is the truth —
        // when this batch changed it (a batch of dead letters only leaves it as it was: then roll back).
        if (marker === this.lastMarker || this.channel.marker(this.name) !== marker) throw err;
      }
      this.lastMarker = marker;
      for (const f of touched) f.committed = f.length;
      this.m.delivered.inc(count);
      this.m.bytes.inc(bytes);
      this.m.batches.inc();
    } catch (err) {
      this.m.errors.inc();
      this.needsRecovery = true;
      await tx.rollback().catch(() => undefined);
      // Undo what the failed batch wrote: back to the last committed marker.
      await this.recover(this.lastMarker).catch((e: Error) => this.ctx.log.error({ sink: this.name, err: e.message }, 'lake recovery after a failed batch failed; retrying before the next batch'));
      throw err;
    }
    // The batch is delivered; closing is housekeeping. If it fails, recovery (from the marker just
    // committed, which lists these files with their lengths) renames them before the next batch.
    try {
      for (const f of [...this.open]) if (f.full) await this.close(f);
      if (this.open.size > this.cfg['hdfs.maxOpenFiles']) {
        const lru = [...this.open].sort((a, b) => a.lastWrite - b.lastWrite);
        for (const f of lru.slice(0, this.open.size - this.cfg['hdfs.maxOpenFiles'])) await this.close(f);
      }
    } catch (err) {
      this.needsRecovery = true;
      this.m.errors.inc();
      this.ctx.log.error({ sink: this.name, err: (err as Error).message }, 'closing a rolled lake file failed; the sink will recover before its next batch');
    }
    return count;
  }

  /**
   * Writes a bucket's events, splitting where a file reaches its roll size/count: one write per file, of
   * the runs of lines as they lie in the batches (no copy; EventBatch.lineRuns), or one gzip member.
   */
  private async writeBucket(b: Bucket, now: number, touched: Set<OpenFile>): Promise<number> {
    const rollCount = this.cfg['hdfs.rollCount'];
    const rollSize = this.cfg['hdfs.rollSize'];
    const nl = this.cfg['serializer.appendNewline'] ? 1 : 0;
    // Whether `f` reaches a roll condition once `events` more events of `size` bytes are in it.
    const fills = (f: OpenFile, events: number, size: number) =>
      (rollCount > 0 && f.events + events >= rollCount) || (rollSize > 0 && f.rawBytes + size >= rollSize);
    const pieces = new Map<OpenFile, Buffer[]>();
    let written = 0;
    for (const part of b.parts) {
      let i = 0;
      while (i < part.count) {
        const f = this.current.get(b.key) ?? await this.openFile(b, now);
        let j = part.count;
        let size = part.bytes(i, j) + nl * (j - i);
        if (fills(f, j - i, size)) {
          // This file fills up within the part: find the event that reaches the roll condition.
          j = i;
          size = 0;
          while (j < part.count) {
            size += part.bodyLength(j) + nl;
            j++;
            if (fills(f, j - i, size)) break;
          }
          f.full = true;
          this.current.delete(b.key);
        }
        f.events += j - i;
        f.rawBytes += size;
        let list = pieces.get(f);
        if (!list) pieces.set(f, (list = []));
        if (nl) part.lineRuns(i, j, list);
        else for (let k = i; k < j; k++) list.push(part.body(k));
        written += size;
        i = j;
      }
    }
    for (const [f, list] of pieces) {
      let bytes: number;
      if (this.ext) {
        const buf = await gzip(Buffer.concat(list));
        await writeAll(f.fh, [buf], f.length);
        bytes = buf.length;
      } else bytes = await writeAll(f.fh, list, f.length);
      f.length += bytes;
      f.lastWrite = now;
      touched.add(f);
    }
    return written;
  }

  private async openFile(b: Bucket, now: number): Promise<OpenFile> {
    if (!this.madeDirs.has(b.dirAbs)) {
      await fsp.mkdir(b.dirAbs, { recursive: true });
      this.madeDirs.add(b.dirAbs);
    }
    let counter = Math.max(now, this.lastCounter + 1);
    let final: string;
    let inUse: string;
    for (;;) {
      final = `${b.prefix}.${counter}${this.cfg['hdfs.fileSuffix']}${this.ext}`;
      inUse = `${this.cfg['hdfs.inUsePrefix']}${final}${this.tagSuffix}`;
      if (!fs.existsSync(path.join(b.dirAbs, final)) && !fs.existsSync(path.join(b.dirAbs, inUse))) break;
      counter++;
    }
    this.lastCounter = counter;
    await this.journal.append({ dir: b.dir, inUse }, () => [...this.open]);
    const fh = await fsp.open(path.join(b.dirAbs, inUse), 'wx');
    await fsyncDir(b.dirAbs);
    const f: OpenFile = { key: b.key, dir: b.dir, dirAbs: b.dirAbs, inUse, final, fh, length: 0, committed: 0, events: 0, rawBytes: 0, openedAt: now, lastWrite: now, full: false };
    this.open.add(f);
    this.current.set(b.key, f);
    this.m.filesOpened.inc();
    this.m.openFiles.set(this.open.size);
    return f;
  }

  private markerValue(): string {
    const files = [...this.open].map((f) => ({ dir: f.dir, inUse: f.inUse, final: f.final, length: f.length }));
    return JSON.stringify({ v: 1, files } satisfies LakeMarker);
  }

  /** Closes files past rollInterval or idleTimeout (their bytes are committed: called between batches). */
  private async closeExpired(now: number): Promise<void> {
    const interval = this.cfg['hdfs.rollInterval'] * 1000;
    const idle = this.cfg['hdfs.idleTimeout'] * 1000;
    if (!interval && !idle) return;
    for (const f of [...this.open]) {
      if ((interval && now - f.openedAt >= interval) || (idle && now - f.lastWrite >= idle)) await this.close(f);
    }
  }

  /** Renames a file whose bytes are all committed to its final name (or deletes it when empty). */
  private async close(f: OpenFile): Promise<void> {
    this.open.delete(f);
    if (this.current.get(f.key) === f) this.current.delete(f.key);
    this.m.openFiles.set(this.open.size);
    await f.fh.close();
    const from = path.join(f.dirAbs, f.inUse);
    if (f.committed === 0) await fsp.rm(from, { force: true });
    else {
      await fsp.rename(from, path.join(f.dirAbs, f.final));
      this.m.filesClosed.inc();
    }
    await fsyncDir(f.dirAbs);
  }

  /**
   * Brings the lake back to the state of a committed marker (lake-journal.ts): closes every handle, then
   * truncates and renames the files the marker knows and deletes this sink's other in-use files.
   */
  async recover(markerValue: string | undefined): Promise<RecoveryReport> {
    for (const f of this.open) await f.fh.close().catch(() => undefined);
    this.open.clear();
    this.current.clear();
    this.m.openFiles.set(0);
    await this.journal.close().catch(() => undefined);
    const report = await recoverLake(markerValue, {
      lakeRoot: this.lakeRoot, sink: this.name, inUsePrefix: this.cfg['hdfs.inUsePrefix'], tagSuffix: this.tagSuffix,
      journal: this.journal, log: this.ctx.log, onRenamed: () => this.m.filesClosed.inc(),
    });
    this.lastMarker = markerValue;
    this.needsRecovery = false;
    if (report.renamed.length || report.deleted.length || report.truncated.length) this.ctx.log.info({ sink: this.name, ...report }, 'lake sink recovered its in-use files');
    return report;
  }
}

/** Writes the buffers back to back at `position` (writev, continued after a short write); returns the bytes. */
async function writeAll(fh: fsp.FileHandle, list: Buffer[], position: number): Promise<number> {
  let total = 0;
  for (const b of list) total += b.length;
  let done = 0;
  let bufs = list;
  while (done < total) {
    const { bytesWritten } = await fh.writev(bufs, position + done);
    if (bytesWritten <= 0) throw new Error(`short write to a lake file (${done} of ${total} bytes)`);
    done += bytesWritten;
    if (done < total) {
      // Drop what was written from the front of the list.
      let skip = bytesWritten;
      const rest: Buffer[] = [];
      for (const b of bufs) {
        if (skip >= b.length) { skip -= b.length; continue; }
        rest.push(skip ? b.subarray(skip) : b);
        skip = 0;
      }
      bufs = rest;
    }
  }
  return total;
}

export const lakeSinkFactory: SinkFactory<LakeSinkConfig> = {
  kind: 'sink',
  type: 'hdfs',
  aliases: ['lake', 'org.apache.flume.sink.hdfs.HDFSEventSink'],
  schema: lakeSinkSchema,
  create: (config, channel, ctx) => new LakeSink(config, channel, ctx),
};
