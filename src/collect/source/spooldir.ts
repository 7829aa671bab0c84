/**
 * Spooling-directory source (Flume's `spooldir`): complete files dropped into a directory are read
 * line by line in batches and, once every line is committed to the channel, deleted
 * (`deletePolicy = immediate`) or renamed with `fileSuffix` (`.COMPLETED`, `deletePolicy = never`).
 *
 * Which files: regular files whose names are not hidden (`.x`), not in progress (`*.tmp`), not already
 * completed (`*<fileSuffix>`), match `includePattern` and not `ignorePattern`. Producers must drop files
 * complete (write elsewhere or under a `.tmp` name, then rename), as with Flume.
 *
 * Progress: each batch is committed to the channel together with the marker
 *   {"file": <absolute path>, "ino": <inode>, "size": <size at pickup>, "mtimeMs": …, "offset": <bytes after the batch>}
 * so after a crash the source resumes exactly after the last committed line (no duplicates, no gaps);
 * a file whose last batch was committed but which was not yet deleted is just completed.
 *
 * Pickup: the directory is watched (`fs.watch`, inotify on Linux) and rescanned as soon as a name
 * that could be a candidate appears, so a file moved in is picked up within milliseconds; the scan
 * every `pollDelay` ms stays as the fallback (file systems without change events, a missed event).
 * Events for names that can never be read (hidden, `*.tmp`, completed) do not cause a scan, so a
 * producer writing a large `.tmp` file costs nothing. The watch only says *when* to look: which files
 * are read is decided by the scan alone, so the contract (complete files, never a name in progress)
 * is the scan's, as before.
 *
 * A file that changes after pickup (size or mtime differs) breaks the spooling contract: it is moved to
 * `<spoolDir>/.quarantine/`, a dead-letter record says why, and the source goes on with the next file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { counter, errorMessage } from '../../core/index.ts';
import { registerComponent, type ComponentContext, type SourceFactory } from '../registry.ts';
import { resolvePath } from '../config.ts';
import { bool, int, Napper, regexSource } from '../props.ts';
import type { EventBatch } from '../batch.ts';
import type { Source } from '../types.ts';
import { linesBatch, openLineReader, toEvents } from './lines.ts';
import { StoppedError } from './stopped.ts';

/**
 * Batches in flight per file: the next batches are read and intercepted while earlier ones commit, and
 * their commits share fsyncs (the agent keeps them in order). Each batch is still its own transaction.
 */
const READ_AHEAD = 8;

const regex = (def: string) => regexSource.default(def);

export const spoolSchema = z.object({
  spoolDir: z.string().min(1).describe('Directory to watch; a relative path resolves against the data directory (--data). Created if missing.'),
  fileSuffix: z.string().default('.COMPLETED').describe('Appended to a file\'s name once it is ingested (deletePolicy = never); names ending with it are skipped.'),
  deletePolicy: z.enum(['never', 'immediate']).default('never').describe('What happens to a fully committed file: never = renamed with fileSuffix, immediate = deleted.'),
  fileHeader: bool(false).describe('Add the file\'s absolute path as a header named fileHeaderKey.'),
  fileHeaderKey: z.string().default('file').describe('Header name for fileHeader.'),
  basenameHeader: bool(false).describe('Add the file\'s name as a header named basenameHeaderKey.'),
  basenameHeaderKey: z.string().default('basename').describe('Header name for basenameHeader.'),
  includePattern: regex('^.*$').describe('Regular expression (JavaScript syntax) a file name must match to be read.'),
  ignorePattern: regex('^$').describe('Regular expression of file names to skip. Hidden names (.x) and in-progress names (*.tmp) are always skipped.'),
  trackerDir: z.string().default('.flumespool').describe('Accepted, ignored: progress is a marker committed with each batch in the channel, not a tracker file.'),
  trackingPolicy: z.enum(['rename', 'tracker_dir']).default('rename').describe('Accepted, ignored: an ingested file is always renamed (never) or deleted (immediate); tracker_dir mode, which leaves the name unchanged, is not reproduced.'),
  consumeOrder: z.enum(['oldest', 'youngest', 'random']).default('oldest').describe('Order of files: by modification time, oldest or youngest first (ties by name), or random.'),
  pollDelay: int(500, 10).describe('Milliseconds between scans of an empty directory when no change event arrives (the directory is also watched, so a file moved in is picked up at once).'),
  recursiveDirectorySearch: bool(false).describe('Also read files in subdirectories.'),
  maxBackoff: int(4000, 10).describe('Accepted, ignored: a full channel is waited on and the same batch retried; no backoff to tune.'),
  batchSize: int(100, 1).describe('Lines per channel transaction (one put committed with the file position).'),
  inputCharset: z.string().default('UTF-8').describe('Accepted, ignored: lines are passed on as the file\'s bytes, never decoded.'),
  decodeErrorPolicy: z.enum(['FAIL', 'REPLACE', 'IGNORE']).default('FAIL').describe('Accepted, ignored: bytes are never decoded, so invalid UTF-8 passes through unchanged.'),
  deserializer: z.enum(['LINE', 'org.apache.flume.serialization.LineDeserializer$Builder']).default('LINE').describe('LINE only: one event per line (CRLF endings lose the CR).'),
  'deserializer.maxLineLength': int(2048, 1).describe('Longest line in bytes. A longer line is not split into several events (Flume) but counted in smartcar_collect_source_lines_too_long_total and written, cut to its first 1 KB, to the dead letters.'),
  'deserializer.outputCharset': z.string().default('UTF-8').describe('Accepted, ignored: a body is the line\'s bytes.'),
}).strict().describe('Reads complete files dropped into a directory, line by line in batches, each batch committed to the channel with the file position: a restart resumes after the last committed line. A file changed after pickup is quarantined: moved to <spoolDir>/.quarantine, the reason logged.');
export type SpoolConfig = z.infer<typeof spoolSchema>;

interface SpoolMarker {
  file: string;
  ino: number;
  size: number;
  mtimeMs: number;
  offset: number;
}

const metrics = {
  lines: counter('smartcar_collect_source_events_received_total', 'Lines read by a source (before interceptors)', ['agent', 'component']),
  bytes: counter('smartcar_collect_source_bytes_total', 'Bytes read by a source', ['agent', 'component']),
  files: counter('smartcar_collect_spool_files_completed_total', 'Spool files fully ingested (deleted or renamed)', ['agent', 'component']),
  quarantined: counter('smartcar_collect_spool_files_quarantined_total', 'Spool files moved to .quarantine (changed after pickup, unreadable)', ['agent', 'component']),
  tooLong: counter('smartcar_collect_source_lines_too_long_total', 'Lines longer than deserializer.maxLineLength, sent to the dead letters', ['agent', 'component']),
  errors: counter('smartcar_collect_source_errors_total', 'Source errors (retried)', ['agent', 'component']),
};

export class SpoolDirSource implements Source {
  private stopped = false;
  private readonly nap = new Napper();
  private loop: Promise<void> | undefined;
  private watcher: fs.FSWatcher | undefined;
  /** Set by the watcher: something may have appeared since the last scan began. */
  private dirty = false;
  private readonly dir: string;
  private readonly labels: { agent: string; component: string };

  constructor(
    private readonly cfg: SpoolConfig,
    private readonly deliver: (events: EventBatch, marker: string) => Promise<void>,
    private readonly ctx: ComponentContext & { resume: string | undefined },
  ) {
    this.dir = resolvePath(ctx.dataDir, cfg.spoolDir);
    this.labels = { agent: ctx.agent, component: ctx.name };
  }

  get name(): string {
    return this.ctx.name;
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    this.watch();
    this.loop = this.run().catch((err) => {
      if (!(err instanceof StoppedError)) this.ctx.log.error({ err: errorMessage(err), source: this.name }, 'spooldir source failed');
    });
  }

  /** Wakes the scan loop when a name that could be a candidate appears (see the file comment). */
  private watch(): void {
    const suffix = this.cfg.fileSuffix;
    try {
      this.watcher = fs.watch(this.dir, { persistent: false, recursive: this.cfg.recursiveDirectorySearch }, (_event, name) => {
        if (name) {
          const base = path.basename(String(name));
          if (base.startsWith('.') || base.endsWith('.tmp') || base.endsWith(suffix)) return;
        }
        this.dirty = true;
        this.nap.wake();
      });
      this.watcher.on('error', (err) => {
        // Scans every pollDelay ms still find every file.
        this.ctx.log.warn({ source: this.name, err: errorMessage(err) }, 'spool directory watch failed; falling back to scanning every pollDelay ms');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.ctx.log.warn({ source: this.name, err: errorMessage(err) }, 'cannot watch the spool directory; scanning every pollDelay ms');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.nap.wake();
    await this.loop;
  }

  /** Candidate files, in consume order. */
  candidates(): { file: string; st: fs.Stats }[] {
    const include = new RegExp(this.cfg.includePattern);
    const ignore = new RegExp(this.cfg.ignorePattern);
    const out: { file: string; st: fs.Stats }[] = [];
    const walk = (dir: string) => {
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        return;
      }
      for (const n of names) {
        if (n.startsWith('.') || n.endsWith('.tmp') || n.endsWith(this.cfg.fileSuffix)) continue;
        const file = path.join(dir, n);
        let st: fs.Stats;
        try {
          st = fs.statSync(file);
        } catch {
          continue;
        }
        if (st.isDirectory()) {
          if (this.cfg.recursiveDirectorySearch) walk(file);
          continue;
        }
        if (!st.isFile() || !include.test(n) || ignore.test(n)) continue;
        out.push({ file, st });
      }
    };
    walk(this.dir);
    if (this.cfg.consumeOrder === 'random') out.sort(() => Math.random() - 0.5);
    else {
      const dirn = this.cfg.consumeOrder === 'oldest' ? 1 : -1;
      out.sort((a, b) => dirn * (a.st.mtimeMs - b.st.mtimeMs) || a.file.localeCompare(b.file));
    }
    return out;
  }

  private async run(): Promise<void> {
    let resume: SpoolMarker | undefined;
    try {
      resume = this.ctx.resume ? (JSON.parse(this.ctx.resume) as SpoolMarker) : undefined;
    } catch {
      this.ctx.log.warn({ source: this.name }, 'unreadable resume marker; starting files from the beginning');
    }
    while (!this.stopped) {
      this.dirty = false;
      const files = this.candidates();
      if (files.length === 0) {
        // An event that arrived during the scan means scan again now, not after pollDelay.
        if (!this.dirty) await this.nap.sleep(this.cfg.pollDelay);
        continue;
      }
      // A file interrupted by a crash goes first, from where its last committed batch ended.
      let next = files[0];
      let offset = 0;
      if (resume) {
        const r = resume;
        const hit = files.find((f) => f.file === r.file && f.st.ino === r.ino);
        resume = undefined;
        if (hit) {
          next = hit;
          offset = r.offset;
          if (hit.st.size !== r.size || hit.st.mtimeMs !== r.mtimeMs) {
            this.quarantine(hit.file, `changed while the agent was down (size ${r.size} → ${hit.st.size}) after ${r.offset} bytes were ingested`);
            continue;
          }
        }
      }
      await this.ingest(next.file, next.st, offset);
    }
  }

  private async ingest(file: string, st: fs.Stats, startOffset: number): Promise<void> {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      metrics.errors.inc(this.labels);
      this.quarantine(file, `cannot open: ${errorMessage(err)}`);
      return;
    }
    const headers: Record<string, string> = {};
    if (this.cfg.fileHeader) headers[this.cfg.fileHeaderKey] = file;
    if (this.cfg.basenameHeader) headers[this.cfg.basenameHeaderKey] = path.basename(file);
    const reader = openLineReader(fd, startOffset, this.cfg['deserializer.maxLineLength']);
    const marker: SpoolMarker = { file, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, offset: startOffset };
    const inflight: Promise<void>[] = [];
    this.ctx.log.info({ source: this.name, file, offset: startOffset, size: st.size }, startOffset ? 'resuming spool file' : 'ingesting spool file');
    try {
      for (;;) {
        const before = reader.offset;
        const read = reader.read(this.cfg.batchSize);
        let tooLong = read.tooLong;
        let end = reader.offset;
        let batch = linesBatch(read.lines, headers);
        if (batch.count === 0 && tooLong.length === 0) {
          // EOF: a last line without a newline is still a line in a complete file.
          const tail = reader.pending();
          if (tail.length === 0) break;
          end += tail.length;
          if (tail.length > this.cfg['deserializer.maxLineLength']) tooLong = [tail.subarray(0, 1024)];
          else batch = linesBatch(read.lines, headers, Buffer.from(tail));
        }
        const now = fs.fstatSync(fd);
        if (now.size !== st.size || now.mtimeMs !== st.mtimeMs) {
          this.quarantine(file, `modified after pickup (size ${st.size} → ${now.size}); spool files must be complete when they appear. ${before} bytes were ingested before the change`);
          return;
        }
        if (tooLong.length) {
          metrics.tooLong.inc(this.labels, tooLong.length);
          this.ctx.deadLetters.write(this.name, `line longer than deserializer.maxLineLength (${this.cfg['deserializer.maxLineLength']}) in ${file}`, toEvents(tooLong, headers));
        }
        marker.offset = end;
        metrics.lines.inc(this.labels, batch.count);
        metrics.bytes.inc(this.labels, end - before);
        // deliver() retries until committed and rejects only when the agent stops. READ_AHEAD batches in flight:
        // the next one is read and intercepted while the previous one commits (the agent keeps them in order).
        const d = this.deliver(batch, JSON.stringify(marker));
        d.catch(() => {});
        inflight.push(d);
        if (inflight.length >= READ_AHEAD) await inflight.shift();
        if (end >= st.size) break;
      }
      await Promise.all(inflight);
    } finally {
      reader.close();
    }
    await this.complete(file);
  }

  private async complete(file: string): Promise<void> {
    try {
      // Unlinking a 100 MB file takes ~0.1 s of kernel time: off the event loop.
      if (this.cfg.deletePolicy === 'immediate') await fs.promises.unlink(file);
      else {
        let target = file + this.cfg.fileSuffix;
        // Flume stops the source when the target exists; we keep both and say so.
        if (fs.existsSync(target)) {
          target = `${file}.${Date.now()}${this.cfg.fileSuffix}`;
          this.ctx.log.warn({ source: this.name, file, target }, 'a completed file of the same name exists; renamed with a timestamp');
        }
        fs.renameSync(file, target);
      }
      metrics.files.inc(this.labels);
      this.ctx.log.info({ source: this.name, file }, 'spool file ingested');
    } catch (err) {
      metrics.errors.inc(this.labels);
      this.ctx.log.error({ source: this.name, file, err: errorMessage(err) }, 'could not complete the spool file; it will be seen again and finished from its marker');
    }
  }

  private quarantine(file: string, reason: string): void {
    metrics.quarantined.inc(this.labels);
    const qdir = path.join(this.dir, '.quarantine');
    const target = path.join(qdir, `${path.basename(file)}.${Date.now()}`);
    try {
      fs.mkdirSync(qdir, { recursive: true });
      fs.renameSync(file, target);
    } catch (err) {
      this.ctx.log.error({ source: this.name, file, err: errorMessage(err) }, 'could not move the file to quarantine');
    }
    this.ctx.log.error({ source: this.name, file, quarantined: target, reason }, 'spool file quarantined');
    this.ctx.deadLetters.write(this.name, `spool file quarantined to ${target}: ${reason}`, []);
  }
}

registerComponent({
  kind: 'source', type: 'spooldir', aliases: ['org.apache.flume.source.SpoolDirectorySource'],
  schema: spoolSchema,
  create: (cfg: SpoolConfig, deliver, ctx) => new SpoolDirSource(cfg, deliver, ctx),
} satisfies SourceFactory<SpoolConfig>);
