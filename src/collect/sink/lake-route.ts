/**
 * Where the lake sink puts each event: a bucket is one expanded (`hdfs.path`, `hdfs.filePrefix`) pair under
 * the lake root. Events whose bucket cannot be expanded (no time, a path outside the lake, a bad prefix)
 * are returned as dead letters with the reason.
 */
import path from 'node:path';
import type { EventBatch, Headers } from '../batch.ts';
import type { CollectEvent } from '../types.ts';
import { MissingTimestampError, PathTemplate, type EscapeOptions } from './escape.ts';

/** A batch's events for one bucket, as runs of the taken batches (in order). */
export interface Bucket { key: string; dir: string; dirAbs: string; prefix: string; parts: EventBatch[] }

/** Maps a Flume `hdfs.path` to a path relative to the lake root (a scheme and host and a leading `/pilot-pjt` are dropped). */
export function lakeRelative(hdfsPath: string): string {
  let p = hdfsPath.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  if (p === '/pilot-pjt' || p.startsWith('/pilot-pjt/')) p = p.slice('/pilot-pjt'.length);
  return p.replace(/^\/+/, '');
}

/** Whether `p` is `root` or below it. */
export const inside = (root: string, p: string) => p === root || p.startsWith(root + path.sep);

export class LakeRouter {
  private readonly pathT: PathTemplate;
  private readonly prefixT: PathTemplate;
  private readonly dirs = new Map<string, string | null>();

  /** Throws when the static parts of `hdfsPath` alone lead outside the lake (header values are checked per event). */
  constructor(private readonly lakeRoot: string, private readonly hdfsPath: string, private readonly filePrefix: string, escapes: EscapeOptions, sink: string) {
    this.pathT = new PathTemplate(lakeRelative(hdfsPath), escapes);
    this.prefixT = new PathTemplate(filePrefix, escapes);
    const probe = path.resolve(lakeRoot, this.pathT.parts.map((p) => (p.kind === 'lit' ? p.text : 'x')).join(''));
    if (!inside(lakeRoot, probe)) throw new Error(`hdfs.path '${hdfsPath}' of sink ${sink} leads outside the lake root ${lakeRoot}; use a path under it (e.g. /collect/%{logType}/wrk_date=%Y%m%d)`);
  }

  /**
   * Groups the taken batches by bucket; events that cannot be placed are returned as dead letters by
   * reason. Sources and interceptors share one headers object across a batch's events: each distinct
   * object is routed once (the same headers always expand to the same bucket within a batch's clock), and
   * a run of events with the same object goes to its bucket as one slice.
   */
  route(batches: EventBatch[], now: number): { buckets: Map<string, Bucket>; dead: Map<string, CollectEvent[]> } {
    const buckets = new Map<string, Bucket>();
    const dead = new Map<string, CollectEvent[]>();
    const constDir = this.pathT.constant ? this.pathT.expand({}, now) : undefined;
    const constPrefix = this.prefixT.constant ? this.prefixT.expand({}, now) : undefined;
    let lastHeaders: Headers | undefined;
    let lastPlace: Bucket | string = '';
    const place = (h: Headers): Bucket | string => {
      if (h === lastHeaders) return lastPlace;
      lastHeaders = h;
      lastPlace = this.bucketFor(h, now, constDir, constPrefix, buckets);
      return lastPlace;
    };
    const add = (batch: EventBatch, from: number, to: number) => {
      const where = place(batch.headersAt(from));
      if (typeof where !== 'string') where.parts.push(batch.slice(from, to));
      else {
        const l = dead.get(where);
        const events = batch.events(from, to);
        if (l) for (const e of events) l.push(e);
        else dead.set(where, events);
      }
    };
    for (const batch of batches) {
      if (batch.sharedHeaders) {
        add(batch, 0, batch.count);
        continue;
      }
      let from = 0;
      for (let i = 1; i <= batch.count; i++) {
        if (i === batch.count || batch.headersAt(i) !== batch.headersAt(from)) {
          add(batch, from, i);
          from = i;
        }
      }
    }
    return { buckets, dead };
  }

  /** The bucket of events with headers `h`, or why they cannot be placed. */
  private bucketFor(h: Headers, now: number, constDir: string | undefined, constPrefix: string | undefined, buckets: Map<string, Bucket>): Bucket | string {
    let dir: string;
    let prefix: string;
    try {
      dir = constDir ?? this.pathT.expand(h, now);
      prefix = constPrefix ?? this.prefixT.expand(h, now);
    } catch (err) {
      if (err instanceof MissingTimestampError) return err.message;
      throw err;
    }
    const key = constPrefix !== undefined ? dir : `${dir}\0${prefix}`;
    let b = buckets.get(key);
    if (!b) {
      const dirAbs = this.resolveDir(dir);
      if (dirAbs === null) return `the path '${dir}' (from hdfs.path '${this.hdfsPath}' and the event's headers) leads outside the lake root`;
      if (prefix.includes('/') || prefix.includes('\\') || prefix === '' || prefix === '.' || prefix === '..') {
        return `the file prefix '${prefix}' (from hdfs.filePrefix '${this.filePrefix}') is empty or contains a path separator`;
      }
      b = { key, dir: path.relative(this.lakeRoot, dirAbs), dirAbs, prefix, parts: [] };
      buckets.set(key, b);
    }
    return b;
  }

  private resolveDir(dir: string): string | null {
    let abs = this.dirs.get(dir);
    if (abs === undefined) {
      const r = path.resolve(this.lakeRoot, dir);
      abs = inside(this.lakeRoot, r) ? r : null;
      if (this.dirs.size > 100_000) this.dirs.clear();
      this.dirs.set(dir, abs);
    }
    return abs;
  }
}
