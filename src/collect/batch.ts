/**
 * `EventBatch`: how events travel through the agent — sources, interceptors, channels and sinks — without
 * one object per event. A batch is one byte buffer and two offset arrays: body `i` is
 * `data[starts[i], ends[i])`. Headers are one object shared by every event (what sources and the header
 * interceptors produce) or one object per event.
 *
 * Why: a status day is 2.16 M lines, and a Buffer view plus an event object per line cost more CPU
 * (allocation and garbage collection) than reading, filtering, logging and writing the bytes together.
 * With batches the per-line work is an index scan and a copy; the write-ahead log and the lake get whole
 * byte ranges. Line sources lay bodies out as the file did, each followed by its newline, so a run of
 * lines is one contiguous range that a sink writes with one call (`lineRuns`).
 *
 * `CollectEvent[]` stays the simple API (custom interceptors, sinks that handle events one by one):
 * `events()` and `EventBatch.fromEvents` convert, at the cost the batch form avoids.
 * A batch is immutable once built: interceptors return new batches (which may share `data`).
 */
import type { CollectEvent } from './types.ts';

export type Headers = Record<string, string>;

const NEWLINE = Buffer.from('\n');
const NO_OFFSETS = new Uint32Array(0);
const EMPTY = Buffer.alloc(0);

export class EventBatch {
  constructor(
    /** Body bytes (and whatever lies between bodies: newlines, dropped lines). */
    readonly data: Buffer,
    /** Body `i` starts at `starts[i]` … */
    readonly starts: Uint32Array,
    /** … and ends (exclusive) at `ends[i]`. */
    readonly ends: Uint32Array,
    /** Number of events (the offset arrays may be longer). */
    readonly count: number,
    /** One object for every event, or one per event (`headers[i]`). Never mutate it: build a new batch. */
    readonly headers: Headers | readonly Headers[],
  ) {}

  static empty(headers: Headers = {}): EventBatch {
    return new EventBatch(EMPTY, NO_OFFSETS, NO_OFFSETS, 0, headers);
  }

  /** Copies the events into one batch: bodies back to back, each followed by a newline. */
  static fromEvents(events: readonly CollectEvent[]): EventBatch {
    const n = events.length;
    let size = 0;
    let shared: Headers | undefined = n ? events[0].headers : {};
    for (let i = 0; i < n; i++) {
      size += events[i].body.length + 1;
      if (events[i].headers !== shared) shared = undefined;
    }
    const data = Buffer.allocUnsafe(size);
    const starts = new Uint32Array(n);
    const ends = new Uint32Array(n);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      starts[i] = pos;
      pos += events[i].body.copy(data, pos);
      ends[i] = pos;
      data[pos++] = 10;
    }
    return new EventBatch(data, starts, ends, n, shared ?? events.map((e) => e.headers));
  }

  /** Whether every event has the same headers object (`headers` is then that object). */
  get sharedHeaders(): boolean {
    return !Array.isArray(this.headers);
  }

  headersAt(i: number): Headers {
    const h = this.headers;
    return Array.isArray(h) ? (h as Headers[])[i] : (h as Headers);
  }

  /** Body `i` (a view of `data`, no copy). */
  body(i: number): Buffer {
    return this.data.subarray(this.starts[i], this.ends[i]);
  }

  bodyLength(i: number): number {
    return this.ends[i] - this.starts[i];
  }

  /** Sum of the body lengths of events [from, to). */
  bytes(from = 0, to = this.count): number {
    let b = 0;
    for (let i = from; i < to; i++) b += this.ends[i] - this.starts[i];
    return b;
  }

  /** One object per event (bodies are views of `data`). */
  events(from = 0, to = this.count): CollectEvent[] {
    const out: CollectEvent[] = new Array(to - from);
    for (let i = from; i < to; i++) out[i - from] = { headers: this.headersAt(i), body: this.body(i) };
    return out;
  }

  /** Events [from, to) as a batch sharing this one's bytes. */
  slice(from: number, to: number): EventBatch {
    if (from === 0 && to === this.count) return this;
    const h = this.headers;
    return new EventBatch(this.data, this.starts.subarray(from, to), this.ends.subarray(from, to), to - from,
      Array.isArray(h) ? (h as Headers[]).slice(from, to) : h);
  }

  /** The same events with other headers. */
  withHeaders(headers: Headers | readonly Headers[]): EventBatch {
    return new EventBatch(this.data, this.starts, this.ends, this.count, headers);
  }

  /** The events whose index passes `keep`, as a batch sharing this one's bytes (this batch if all pass). */
  filter(keep: (i: number) => boolean): EventBatch {
    const n = this.count;
    let first = 0;
    while (first < n && keep(first)) first++;
    if (first === n) return this;
    const starts = new Uint32Array(n - 1);
    const ends = new Uint32Array(n - 1);
    starts.set(this.starts.subarray(0, first));
    ends.set(this.ends.subarray(0, first));
    const h = this.headers;
    const per = Array.isArray(h) ? (h as Headers[]).slice(0, first) : undefined;
    let w = first;
    for (let i = first + 1; i < n; i++) {
      if (!keep(i)) continue;
      starts[w] = this.starts[i];
      ends[w] = this.ends[i];
      if (per) per.push((h as Headers[])[i]);
      w++;
    }
    return new EventBatch(this.data, starts, ends, w, per ?? h);
  }

  /**
   * Events [from, to) as text lines (each body followed by a newline), in as few buffers as possible: a
   * run of bodies laid out back to back with their newlines in `data` is one view, so a sink writes it
   * without copying. Other bodies get their newline as a separate piece.
   */
  lineRuns(from = 0, to = this.count, out: Buffer[] = []): Buffer[] {
    const { data, starts, ends } = this;
    const len = data.length;
    let i = from;
    while (i < to) {
      const s = starts[i];
      let e = ends[i];
      if (e >= len || data[e] !== 10) {
        // Not followed by its newline in `data`: the body, then a newline.
        out.push(data.subarray(s, e), NEWLINE);
        i++;
        continue;
      }
      // Extend the run while the next body starts right after this newline and has its own.
      i++;
      while (i < to && starts[i] === e + 1 && ends[i] < len && data[ends[i]] === 10) e = ends[i++];
      out.push(data.subarray(s, e + 1));
    }
    return out;
  }
}

/** How many events the batches hold. */
export function countOf(batches: readonly EventBatch[]): number {
  let n = 0;
  for (const b of batches) n += b.count;
  return n;
}

/** The events of several batches, in order, in the simple form. */
export function eventsOf(batches: readonly EventBatch[]): CollectEvent[] {
  return batches.length === 1 ? batches[0].events() : batches.flatMap((b) => b.events());
}

/** Events in the batch form, whichever form they came in (an array is copied into one buffer). */
export function asBatch(events: readonly CollectEvent[] | EventBatch): EventBatch {
  return events instanceof EventBatch ? events : EventBatch.fromEvents(events);
}

/** Events in the simple form, whichever form they came in. */
export function asEvents(events: readonly CollectEvent[] | EventBatch): CollectEvent[] {
  return events instanceof EventBatch ? events.events() : [...events];
}
