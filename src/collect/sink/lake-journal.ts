/**
 * The lake sink's exactly-once protocol: the channel marker, the journal of files opened, and recovery.
 *
 * ## Exactly-once protocol
 * The sink's channel marker (committed atomically with each take) is
 *   `{"v":1,"files":[{"dir":"<lake-relative dir>","inUse":"<name>","final":"<name>","length":<bytes>}…]}`
 * — every file open at that commit with its length covering exactly the committed events. Per batch:
 *   1. take ≤ batchSize events; expand each event's bucket (an event whose path needs a time it lacks is a
 *      dead letter: Flume would throw and stall the channel forever);
 *   2. before creating a file, append its name to the sink's journal (`<state>/<sink>.lake-journal`, fsync),
 *      create it, fsync its directory (past 1 MB the journal is rewritten, atomically, with the open files);
 *   3. append one buffer per file (gzip: one gzip member per file per batch, so any committed length is a
 *      member boundary), fdatasync every file written;
 *   4. commit the take with the new marker; 5. only then rename the files that reached a roll condition.
 * On `start()` (and after any failed batch), recovery reads the last committed marker and the journal and
 * scans their directories for this sink's in-use files: a file the marker knows is truncated to its
 * committed length and renamed (committed but not yet renamed, or written past the commit); a file the
 * marker does not know is deleted (nothing in it was committed; its events are still in the channel); a
 * marker entry whose in-use file is gone was already renamed. Then the journal is emptied. (Recovery
 * closes every file it keeps, so after a failed batch the open files roll early: smaller files, no loss.)
 * If a commit throws, the channel's marker tells whether it landed (then the batch counts as delivered).
 * Dead letters are written before the commit, so a crash may repeat a dead letter but never loses one.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, type Logger } from '../../core/index.ts';
import { inside } from './lake-route.ts';

/** The journal of files opened is rewritten with the open files only once it grows past this. */
const JOURNAL_COMPACT_BYTES = Number(process.env.SMARTCAR_LAKE_JOURNAL_COMPACT ?? 1_000_000);

export interface MarkerFile { dir: string; inUse: string; final: string; length: number }
export interface LakeMarker { v: 1; files: MarkerFile[] }
/** A file the sink opened: its lake-relative directory and in-use name. */
export interface JournalEntry { dir: string; inUse: string }

export interface RecoveryReport { renamed: string[]; truncated: string[]; deleted: string[]; missing: string[] }

/** The journal of files opened (`<state>/<sink>.lake-journal`): one JSON line per file, appended and fdatasynced before the file is created. */
export class LakeJournal {
  private fh: fsp.FileHandle | undefined;
  private bytes = 0;

  constructor(readonly file: string) {}

  /** Appends `entry` durably; past the compaction size the journal is first rewritten, atomically, with `open` only. */
  async append(entry: JournalEntry, open: () => JournalEntry[]): Promise<void> {
    const line = JSON.stringify(entry) + '\n';
    if (this.bytes > JOURNAL_COMPACT_BYTES) {
      // Closed files need no entry any more: rewrite the journal with the open ones (atomically).
      await this.close();
      const text = open().map((f) => JSON.stringify({ dir: f.dir, inUse: f.inUse }) + '\n').join('') + line;
      const tmp = `${this.file}.new`;
      await fsp.writeFile(tmp, text);
      const h = await fsp.open(tmp, 'r+');
      await h.datasync();
      await h.close();
      await fsp.rename(tmp, this.file);
      await fsyncDir(path.dirname(this.file));
      this.bytes = Buffer.byteLength(text);
      return;
    }
    if (!this.fh) {
      await fsp.mkdir(path.dirname(this.file), { recursive: true });
      this.fh = await fsp.open(this.file, 'a');
    }
    await this.fh.write(line);
    await this.fh.datasync();
    this.bytes += Buffer.byteLength(line);
  }

  /** The entries on disk; `onTorn` is called for a line that does not parse. */
  entries(onTorn: () => void): JournalEntry[] {
    if (!fs.existsSync(this.file)) return [];
    const out: JournalEntry[] = [];
    for (const line of fs.readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as JournalEntry);
      } catch {
        // A torn last line (crash while appending): its file was not created yet (created after the fsync).
        onTorn();
      }
    }
    return out;
  }

  /** Empties the journal (after recovery, when every file it named is closed or gone). */
  async reset(): Promise<void> {
    await this.close();
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    await fsp.writeFile(this.file, '');
    this.bytes = 0;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}

export interface RecoverOptions {
  lakeRoot: string;
  sink: string;
  /** Names of this sink's in-use files: `<inUsePrefix>…<tagSuffix>`. */
  inUsePrefix: string;
  tagSuffix: string;
  journal: LakeJournal;
  log: Logger;
  /** Called for each file renamed to its final name. */
  onRenamed: () => void;
}

/**
 * Brings the lake back to the state of a committed marker (see the protocol at the top): truncates and
 * renames the files the marker knows, deletes this sink's other in-use files, then empties the journal.
 * The caller has closed its handles of the files.
 */
export async function recoverLake(markerValue: string | undefined, o: RecoverOptions): Promise<RecoveryReport> {
  const report: RecoveryReport = { renamed: [], truncated: [], deleted: [], missing: [] };
  let marker: LakeMarker = { v: 1, files: [] };
  if (markerValue) {
    try {
      marker = JSON.parse(markerValue) as LakeMarker;
      if (!Array.isArray(marker.files)) throw new Error('no files list');
    } catch (err) {
      throw new Error(`the channel marker of lake sink ${o.sink} is not a lake marker (${(err as Error).message}): ${markerValue.slice(0, 200)}; was the sink renamed onto another component's name?`);
    }
  }
  const known = new Map<string, MarkerFile>();
  const dirs = new Set<string>();
  for (const f of marker.files) {
    known.set(path.join(o.lakeRoot, f.dir, f.inUse), f);
    dirs.add(f.dir);
  }
  const candidates = new Set<string>(known.keys());
  for (const j of o.journal.entries(() => o.log.warn({ sink: o.sink, journal: o.journal.file }, 'ignoring a torn journal line'))) {
    candidates.add(path.join(o.lakeRoot, j.dir, j.inUse));
    dirs.add(j.dir);
  }
  for (const d of dirs) {
    const abs = path.join(o.lakeRoot, d);
    if (!inside(o.lakeRoot, abs) || !fs.existsSync(abs)) continue;
    for (const name of fs.readdirSync(abs)) {
      if (name.startsWith(o.inUsePrefix) && name.endsWith(o.tagSuffix)) candidates.add(path.join(abs, name));
    }
  }
  const touchedDirs = new Set<string>();
  for (const p of candidates) {
    if (!inside(o.lakeRoot, p)) continue;
    const k = known.get(p);
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) {
      const fin = k && path.join(path.dirname(p), k.final);
      if (k && k.length > 0 && !fs.existsSync(fin!)) {
        report.missing.push(p);
        o.log.error({ sink: o.sink, file: p, final: fin, committed: k.length }, 'a committed lake file is missing (neither in-use nor final name exists); its events cannot be recovered');
      }
      continue;
    }
    touchedDirs.add(path.dirname(p));
    if (!k || k.length === 0) {
      await fsp.rm(p, { force: true });
      report.deleted.push(p);
      continue;
    }
    if (st.size < k.length) {
      o.log.error({ sink: o.sink, file: p, size: st.size, committed: k.length }, 'a lake file is shorter than its committed length (storage lost acknowledged bytes); closing it as it is');
    } else if (st.size > k.length) {
      await fsp.truncate(p, k.length);
      report.truncated.push(p);
    }
    const fin = path.join(path.dirname(p), k.final);
    if (fs.existsSync(fin)) {
      o.log.error({ sink: o.sink, file: p, final: fin }, 'both the in-use and the final name of a lake file exist; leaving the in-use file for an operator');
      continue;
    }
    await fsp.rename(p, fin);
    report.renamed.push(fin);
    o.onRenamed();
  }
  for (const d of touchedDirs) await fsyncDir(d);
  await o.journal.reset();
  return report;
}
