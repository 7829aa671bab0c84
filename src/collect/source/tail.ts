/**
 * The tail source: follows files by name. Flume's `TAILDIR` (taildir.ts) uses it, and so does `exec` with
 * a `tail -F FILE` command (exec.ts), which we serve natively (no child process), so the real-time flow of
 * the car logs gets durable positions.
 *
 * The follower reads appended lines of a file by name:
 *   - appends: read from the saved position to the end; a last line without its newline waits for it;
 *   - rotation (the name now points to another inode): the old file is drained to its end first (its
 *     last unterminated line, if any, is emitted then: nothing will complete it), then the new file is
 *     read from its start;
 *   - truncation (same inode, size below the position): logged and read again from the start
 *     (`copytruncate` rotation), as `tail -F` does;
 *   - the file missing: waits for it to appear.
 *   - several rotations between two looks: the rotated siblings (`x.log.1`, `x.log-2024…`) born between
 *     the old file and the current one are drained in birth order before the current file.
 * Positions are committed with each batch as the channel marker
 *   {"files": {"<path>": {"ino": <inode>, "birth": <birth time ms>, "pos": <offset after the last committed line>}}}
 * (inode + birth time identify a file: inodes are reused), and a position is also committed whenever a
 * file is opened, so a restart resumes exactly after the last committed line. If the file was rotated
 * while the agent was down, the saved file is found among the siblings and drained from the saved
 * position, then every sibling born after it, then the current file.
 *
 * Without a saved position a file is read from its beginning (nothing already written is lost), or
 * from its end with `skipToEnd = true` (TAILDIR) — `tail -F`'s "last 10 lines" start is not reproduced.
 */
import fs from 'node:fs';
import path from 'node:path';
import { counter, errorMessage } from '../../core/index.ts';
import type { ComponentContext } from '../registry.ts';
import { Napper } from '../props.ts';
import { EventBatch } from '../batch.ts';
import type { CollectEvent, Source } from '../types.ts';
import { linesBatch, openLineReader, toEvents, type LineReader } from './lines.ts';
import { StoppedError } from './stopped.ts';


const metrics = {
  lines: counter('smartcar_collect_source_events_received_total', 'Lines read by a source (before interceptors)', ['agent', 'component']),
  bytes: counter('smartcar_collect_source_bytes_total', 'Bytes read by a source', ['agent', 'component']),
  rotations: counter('smartcar_collect_tail_rotations_total', 'Rotations and truncations followed by a tail source', ['agent', 'component']),
  tooLong: counter('smartcar_collect_source_lines_too_long_total', 'Lines longer than deserializer.maxLineLength, sent to the dead letters', ['agent', 'component']),
  errors: counter('smartcar_collect_source_errors_total', 'Source errors (retried)', ['agent', 'component']),
};

export type Deliver = (events: CollectEvent[] | EventBatch, marker: string) => Promise<void>;
export type Ctx = ComponentContext & { resume: string | undefined };

/** A followed file's identity (inode + birth time, since inodes are reused) and committed position. */
interface FilePos { ino: number; pos: number; birth?: number }
interface TailMarker { files: Record<string, FilePos> }

export interface TailOptions {
  files: { path: string; headers: Record<string, string> }[];
  batchSize: number;
  skipToEnd: boolean;
  maxLineLength: number;
  pollMs: number;
  fileHeader?: string;
  byteOffsetHeader?: boolean;
}

/** Follows files by name and delivers their lines (see the file comment). */
export class TailSource implements Source {
  private stopped = false;
  private readonly nap = new Napper();
  private loop: Promise<void> | undefined;
  private watchers: fs.FSWatcher[] = [];
  private readonly positions: Record<string, FilePos> = {};
  private readonly labels: { agent: string; component: string };

  constructor(private readonly opts: TailOptions, private readonly deliver: Deliver, private readonly ctx: Ctx) {
    this.labels = { agent: ctx.agent, component: ctx.name };
  }

  get name(): string {
    return this.ctx.name;
  }

  async start(): Promise<void> {
    let saved: TailMarker | undefined;
    try {
      saved = this.ctx.resume ? (JSON.parse(this.ctx.resume) as TailMarker) : undefined;
    } catch {
      this.ctx.log.warn({ source: this.name }, 'unreadable resume marker; following files from their start');
    }
    for (const f of this.opts.files) {
      const p = saved?.files?.[f.path];
      if (p) this.positions[f.path] = p;
      fs.mkdirSync(path.dirname(f.path), { recursive: true });
      try {
        // A hint only: polling every pollMs is what guarantees progress.
        const w = fs.watch(path.dirname(f.path), () => this.nap.wake());
        w.on('error', () => {});
        this.watchers.push(w);
      } catch {
        // watching is optional
      }
    }
    this.loop = this.run().catch((err) => {
      if (!(err instanceof StoppedError)) this.ctx.log.error({ err: errorMessage(err), source: this.name }, 'tail source failed');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    this.nap.wake();
    await this.loop;
  }

  private marker(): string {
    return JSON.stringify({ files: this.positions } satisfies TailMarker);
  }

  private async run(): Promise<void> {
    const followers = this.opts.files.map((f) => new Follower(f.path, f.headers, this));
    while (!this.stopped) {
      let progressed = false;
      for (const f of followers) {
        if (this.stopped) break;
        if (await f.step()) progressed = true;
      }
      if (!progressed) await this.nap.sleep(this.opts.pollMs);
    }
    for (const f of followers) f.close();
  }

  /** Called by followers: delivers lines and moves the committed position of `file`. */
  async emit(file: string, lines: EventBatch, headers: Record<string, string>, ino: number, pos: number, bytes: number, tooLong: Buffer[], birth: number): Promise<void> {
    if (tooLong.length) {
      metrics.tooLong.inc(this.labels, tooLong.length);
      this.ctx.deadLetters.write(this.name, `line longer than ${this.opts.maxLineLength} bytes in ${file}`, toEvents(tooLong, headers));
    }
    this.positions[file] = { ino, pos, birth };
    metrics.lines.inc(this.labels, lines.count);
    metrics.bytes.inc(this.labels, bytes);
    await this.deliver(lines, this.marker());
  }

  savedPosition(file: string): FilePos | undefined {
    return this.positions[file];
  }

  get options(): TailOptions {
    return this.opts;
  }

  rotated(file: string, why: string): void {
    metrics.rotations.inc(this.labels);
    this.ctx.log.info({ source: this.name, file }, why);
  }

  debug(file: string, fields: Record<string, unknown>): void {
    this.ctx.log.debug({ source: this.name, file, ...fields }, 'looking for files rotated in between');
  }

  error(file: string, err: unknown): void {
    metrics.errors.inc(this.labels);
    this.ctx.log.warn({ source: this.name, file, err: errorMessage(err) }, 'tail read failed; retrying');
  }
}

/** The file now under a name, opened (so it stays the same file whatever happens to the name), or nothing. */
function openIfExists(file: string): { fd: number | undefined; st: fs.Stats | undefined } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { fd: undefined, st: undefined };
  }
  return { fd, st: fs.fstatSync(fd) };
}

/** One followed file name. */
class Follower {
  private fd: number | undefined;
  private ino = -1;
  /** Birth time of the open file (ms, statx): with the inode, identifies it even when inodes are reused. */
  private birth = 0;
  private reader: LineReader | undefined;
  private started = false;
  private readonly headers: Record<string, string>;

  constructor(private readonly file: string, headers: Record<string, string>, private readonly src: TailSource) {
    this.headers = src.options.fileHeader ? { ...headers, [src.options.fileHeader]: file } : headers;
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
    this.fd = undefined;
  }

  private open(fd: number, st: fs.Stats, pos: number): void {
    this.close();
    this.fd = fd;
    this.ino = st.ino;
    this.birth = st.birthtimeMs;
    this.reader = openLineReader(fd, pos, this.src.options.maxLineLength);
  }

  /** Reads what is new; returns whether anything was delivered or the file changed identity. */
  async step(): Promise<boolean> {
    try {
      if (!this.started) {
        this.started = true;
        await this.resume();
      }
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(this.file);
      } catch {
        st = undefined; // rotated away and not recreated yet, or not created yet
      }
      if (this.fd === undefined) {
        if (!st) return false;
        // After an earlier file (this.birth set), files rotated in between are drained first.
        if (this.birth > 0) return await this.switchToCurrent(this.birth);
        const fd = fs.openSync(this.file, 'r');
        const fst = fs.fstatSync(fd);
        const pos = this.src.options.skipToEnd && !this.src.savedPosition(this.file) ? fst.size : 0;
        this.open(fd, fst, pos);
        await this.commitPosition();
        return true;
      }
      const delivered = await this.drain(false);
      if (delivered) return true;
      if (st && st.ino !== this.ino) {
        // Rotation: finish the old file (including an unterminated last line), then any file rotated in
        // between (two rotations between polls), then switch to the current one.
        const oldBirth = this.birth;
        await this.drain(true);
        this.src.rotated(this.file, 'file rotated; following the new one from its start');
        await this.switchToCurrent(oldBirth);
        return true;
      }
      if (st && st.size < this.reader!.offset) {
        this.src.rotated(this.file, `file truncated (size ${st.size} < position ${this.reader!.offset}); reading from the start`);
        this.open(fs.openSync(this.file, 'r'), st, 0);
        await this.commitPosition();
        return true;
      }
      return false;
    } catch (err) {
      if (err instanceof StoppedError) throw err;
      this.src.error(this.file, err);
      return false;
    }
  }

  /**
   * Commits "now at (file, position)" with no lines, whenever the follower opens a file: if the agent dies
   * before the file's first line is delivered and the file is rotated away meanwhile, the restart finds it
   * by its identity instead of skipping it.
   */
  private async commitPosition(): Promise<void> {
    await this.src.emit(this.file, EventBatch.empty(this.headers), this.headers, this.ino, this.reader!.offset, 0, [], this.birth);
  }

  /** Delivers complete lines available now; with `final`, also the unterminated last line. */
  private async drain(final: boolean): Promise<boolean> {
    const r = this.reader!;
    let any = false;
    for (;;) {
      const before = r.offset;
      const read = r.read(this.src.options.batchSize);
      const tooLong = read.tooLong;
      let pos = r.offset;
      let lines = linesBatch(read.lines, this.headers);
      if (final && read.eof) {
        const tail = r.pending();
        if (tail.length) {
          lines = linesBatch(read.lines, this.headers, Buffer.from(tail));
          pos += tail.length;
        }
      }
      if (lines.count === 0 && tooLong.length === 0) return any;
      await this.src.emit(this.file, lines, this.headers, this.ino, pos, pos - before, tooLong, this.birth);
      any = true;
      if (final && pos > r.offset) return any;
    }
  }

  /** Rotated siblings of the followed name (`x.log.1`, `x.log-20240101`…), compressed ones excluded. */
  private siblings(): { path: string; st: fs.Stats }[] {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    const out: { path: string; st: fs.Stats }[] = [];
    for (const n of fs.readdirSync(dir)) {
      if (n === base || !n.startsWith(base) || /\.(gz|bz2|xz|zst|zip)$/.test(n)) continue;
      try {
        const st = fs.statSync(path.join(dir, n));
        if (st.isFile()) out.push({ path: path.join(dir, n), st });
      } catch {
        // vanished meanwhile
      }
    }
    return out;
  }

  /**
   * Drains, oldest first, every rotated sibling born after `after` and before the current file: files that
   * lived and were rotated away between two looks (or while the agent was down). Births are compared
   * strictly, so a file is never read twice; two rotations within one clock tick (~4 ms) could still hide
   * the middle file.
   */
  private async drainBetween(after: number, current: fs.Stats | undefined): Promise<void> {
    const all = this.siblings();
    this.src.debug(this.file, { after, current: current && { ino: current.ino, birth: current.birthtimeMs }, siblings: all.map((f) => ({ p: path.basename(f.path), ino: f.st.ino, birth: f.st.birthtimeMs })) });
    const between = all
      .filter((f) => f.st.birthtimeMs > after && (!current || (f.st.ino !== current.ino && f.st.birthtimeMs <= current.birthtimeMs)))
      .sort((a, b) => a.st.birthtimeMs - b.st.birthtimeMs || a.st.mtimeMs - b.st.mtimeMs);
    for (const f of between) {
      this.src.rotated(this.file, `draining ${f.path}, rotated away before it was read`);
      this.open(fs.openSync(f.path, 'r'), f.st, 0);
      await this.commitPosition();
      await this.drain(true);
      this.close();
    }
  }

  /**
   * Opens the file now under the followed name — first, so that nothing rotated after this moment can be
   * missed — then drains every sibling born after `after` and before it, then follows it from its start.
   * Returns false when the name does not exist (the siblings are drained all the same).
   */
  private async switchToCurrent(after: number): Promise<boolean> {
    const { fd, st: cur } = openIfExists(this.file);
    this.close();
    try {
      await this.drainBetween(after, cur);
    } catch (err) {
      if (fd !== undefined) fs.closeSync(fd);
      throw err;
    }
    if (fd === undefined || !cur) return false;
    this.open(fd, cur, 0);
    await this.commitPosition();
    return true;
  }

  /** Opens at the saved position; if the saved file was rotated away while we were down, drains it first. */
  private async resume(): Promise<void> {
    const saved = this.src.savedPosition(this.file);
    if (!saved) return;
    const same = (s: fs.Stats) => s.ino === saved.ino && (saved.birth === undefined || s.birthtimeMs === saved.birth);
    const { fd, st: cur } = openIfExists(this.file);
    if (fd !== undefined && cur && same(cur)) {
      if (cur.size < saved.pos) {
        this.src.rotated(this.file, 'file shorter than the saved position (truncated while stopped); reading from the start');
        this.open(fd, cur, 0);
      } else this.open(fd, cur, saved.pos);
      return;
    }
    if (fd !== undefined) fs.closeSync(fd);
    const old = this.siblings().find((f) => same(f.st));
    if (old) {
      this.src.rotated(this.file, `rotated while stopped; draining ${old.path} from the saved position first`);
      this.open(fs.openSync(old.path, 'r'), old.st, Math.min(saved.pos, old.st.size));
      await this.drain(true);
      this.close();
    } else {
      this.src.rotated(this.file, 'the saved file is gone; following the files rotated after it, then the current one');
    }
    // Then the files born after it (the current one last, opened before its elder siblings are drained).
    if (saved.birth !== undefined) await this.switchToCurrent(saved.birth);
  }
}
