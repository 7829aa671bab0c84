/**
 * What the memory and file channels share: the queue of committed events, the transaction rules and the
 * waiters. A channel subclass only says how a commit becomes durable (`persist`); everything a
 * transaction may observe is decided here, once, so both channels behave the same (one contract suite
 * runs against both, test/collect/channel-contract.test.ts).
 *
 * Invariants
 * - Every committed put gets consecutive sequence numbers (`seq`) in commit order (for the file channel:
 *   log order). The queue holds committed, not-taken events as *pieces* — ranges of one committed batch —
 *   sorted by seq. Takes remove from the head; a rolled-back take puts its pieces back where their seqs
 *   belong (the head, unless another take rolled back first), so after any mix of rollbacks the order is
 *   still commit order, which is also the order a file channel replays after a restart.
 * - `used = available + takenOpen + reserved` never exceeds capacity: a put reserves its room when it is
 *   staged (ChannelFullError then, with nothing staged), the room is released when a take commits or the
 *   put rolls back. Events in an open take still count (a rollback must be able to return them).
 * - A transaction puts or takes, never both, and at most `transactionCapacity` events.
 * - Commits are applied (made visible / removed for good) by `persist`'s `apply` callback, called in
 *   commit order; waiters are woken there, never by polling.
 */
import { asBatch, EventBatch, eventsOf } from '../batch.ts';
import { ChannelFullError, type Channel, type ChannelTransaction, type CollectEvent, type CommitOptions, type Marker } from '../types.ts';

/** One committed put batch, as the channel keeps it. `ref` locates its log record (file channel). */
export interface StoredBatch {
  events: EventBatch;
  firstSeq: number;
  /** File id and byte offset of the put record holding the batch (-1 for the memory channel). */
  fileId: number;
  offset: number;
}

/** Events [start, end) of `batch.events`, seqs `batch.firstSeq + start ..`. */
export interface Piece {
  batch: StoredBatch;
  start: number;
  end: number;
}

/** A contiguous run of removed seqs, as a take record stores it. */
export interface SeqRange {
  first: number;
  count: number;
}

export class TransactionCapacityError extends Error {
  constructor(channel: string, kind: 'put' | 'take', wanted: number, capacity: number) {
    super(`channel ${channel}: a ${kind} of ${wanted} events exceeds transactionCapacity ${capacity}; `
      + `lower the component's batchSize or raise ${channel}.transactionCapacity`);
    this.name = 'TransactionCapacityError';
  }
}

export class ChannelStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelStateError';
  }
}

/** What a durable channel is asked to do on commit. `apply` must be called in commit order. */
export interface PersistRequest {
  kind: 'put' | 'take';
  /** Put only: the batch (empty for a take). */
  events: EventBatch;
  ranges: SeqRange[];
  marker: Marker | undefined;
  /** Take only: resolve once written; `apply` still runs in order once the record is durable (CommitOptions). */
  lazy?: boolean;
}

export interface Waiter {
  ready(): boolean;
  resolve(): void;
  timer: NodeJS.Timeout | undefined;
}

export abstract class QueuedChannel implements Channel {
  readonly name: string;
  readonly capacity: number;
  readonly transactionCapacity: number;

  /** Pieces sorted by seq; live ones are `pieces[head..]`. */
  protected pieces: Piece[] = [];
  protected head = 0;
  /** Committed events in the queue (not in an open take). */
  protected available = 0;
  /** Events held by open take transactions. */
  protected takenOpen = 0;
  /** Room reserved by staged puts. */
  protected reserved = 0;
  protected markers = new Map<string, string>();
  /** Open take transactions (their pieces are still live for a checkpoint). */
  protected openTakes = new Set<QueueTransaction>();
  protected state: 'new' | 'running' | 'stopped' = 'new';
  /** Whether reserveBytes/releaseBytes are in use (saves summing body sizes otherwise). */
  protected tracksBytes = false;

  private eventWaiters: Waiter[] = [];
  private spaceWaiters: Waiter[] = [];

  /** `capacity` and `transactionCapacity` come checked from the channel's schema (config.ts). */
  constructor(name: string, capacity: number, transactionCapacity: number) {
    this.name = name;
    this.capacity = capacity;
    this.transactionCapacity = transactionCapacity;
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  /**
   * Makes a commit durable and calls `apply` (in commit order) once it is; resolves after `apply`.
   * Rejects without calling `apply` when the commit could not be made durable.
   */
  protected abstract persist(req: PersistRequest, apply: (batch: StoredBatch | undefined) => void): Promise<void>;

  /** Extra checks before a put is staged (the file channel checks free disk space). Throws to refuse. */
  protected checkPut(_events: EventBatch): void {}

  /** Hook: bytes reserved / released by puts (memory channel's byteCapacity). */
  protected reserveBytes(_events: EventBatch): number { return 0; }
  protected releaseBytes(_bytes: number): void {}

  transaction(): ChannelTransaction {
    if (this.state !== 'running') {
      throw new ChannelStateError(`channel ${this.name} is ${this.state === 'new' ? 'not started' : 'stopped'}; no transaction can begin`);
    }
    return new QueueTransaction(this);
  }

  marker(owner: string): string | undefined {
    return this.markers.get(owner);
  }

  size(): number {
    return this.available + this.takenOpen;
  }

  /** Room left for new puts. */
  remaining(): number {
    return this.capacity - this.available - this.takenOpen - this.reserved;
  }

  waitForEvents(timeoutMs: number): Promise<void> {
    return this.waitOn(this.eventWaiters, () => this.available > 0 || this.state === 'stopped', timeoutMs);
  }

  waitForSpace(n: number, timeoutMs: number): Promise<void> {
    return this.waitOn(this.spaceWaiters, () => this.remaining() >= n || this.state === 'stopped', timeoutMs);
  }

  private waitOn(list: Waiter[], ready: () => boolean, timeoutMs: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const w: Waiter = { ready, resolve, timer: undefined };
      w.timer = setTimeout(() => {
        const i = list.indexOf(w);
        if (i >= 0) list.splice(i, 1);
        resolve();
      }, Math.max(0, timeoutMs));
      list.push(w);
    });
  }

  private wake(list: Waiter[]): void {
    if (list.length === 0) return;
    for (let i = 0; i < list.length;) {
      const w = list[i];
      if (w.ready()) {
        list.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve();
      } else i++;
    }
  }

  protected wakeAll(): void {
    this.wake(this.eventWaiters);
    this.wake(this.spaceWaiters);
  }

  // ---- queue operations (used by transactions and by replay) ----

  /** Appends a committed batch at the tail (its seqs follow every seq in the queue). */
  protected appendBatch(batch: StoredBatch): void {
    if (batch.events.count === 0) return;
    this.pieces.push({ batch, start: 0, end: batch.events.count });
    this.available += batch.events.count;
  }

  /** Removes up to `max` events from the head; returns the pieces (in order). */
  protected takeHead(max: number, out: EventBatch[]): Piece[] {
    const taken: Piece[] = [];
    let want = max;
    while (want > 0 && this.head < this.pieces.length) {
      const p = this.pieces[this.head];
      const n = p.end - p.start;
      const events = p.batch.events;
      if (n <= want) {
        out.push(events.slice(p.start, p.end));
        taken.push(p);
        this.pieces[this.head] = undefined as unknown as Piece;
        this.head++;
        want -= n;
      } else {
        const end = p.start + want;
        out.push(events.slice(p.start, end));
        taken.push({ batch: p.batch, start: p.start, end });
        p.start = end;
        want = 0;
      }
    }
    const got = max - want;
    this.available -= got;
    this.compact();
    return taken;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.pieces.length) {
      this.pieces = this.pieces.slice(this.head);
      this.head = 0;
    }
  }

  /** Puts pieces (sorted by seq) back where their seqs belong; normally at the head. */
  protected returnPieces(back: Piece[]): void {
    if (back.length === 0) return;
    let n = 0;
    for (const p of back) n += p.end - p.start;
    const lastSeq = back[back.length - 1].batch.firstSeq + back[back.length - 1].end - 1;
    const first = this.pieces[this.head] as Piece | undefined;
    if (first === undefined || first.batch.firstSeq + first.start > lastSeq) {
      if (this.head >= back.length) {
        this.head -= back.length;
        for (let i = 0; i < back.length; i++) this.pieces[this.head + i] = back[i];
      } else {
        this.pieces = [...back, ...this.pieces.slice(this.head)];
        this.head = 0;
      }
    } else {
      // Another take rolled back first and its events (later seqs) are at the head: merge by seq.
      const live = this.pieces.slice(this.head);
      const merged: Piece[] = [];
      let i = 0;
      let j = 0;
      const seqOf = (p: Piece) => p.batch.firstSeq + p.start;
      while (i < live.length || j < back.length) {
        if (j >= back.length || (i < live.length && seqOf(live[i]) < seqOf(back[j]))) merged.push(live[i++]);
        else merged.push(back[j++]);
      }
      this.pieces = merged;
      this.head = 0;
    }
    this.available += n;
  }

  /**
   * Removes the seq range [first, first+count) from the queue (replay of a take record). Returns how many
   * events were found; the caller treats a shortfall as corruption.
   */
  protected removeRange(first: number, count: number): number {
    const endSeq = first + count;
    let removed = 0;
    for (let i = this.head; i < this.pieces.length && removed < count;) {
      const p = this.pieces[i];
      const ps = p.batch.firstSeq + p.start;
      const pe = p.batch.firstSeq + p.end;
      if (pe <= first) { i++; continue; }
      if (ps >= endSeq) break;
      const cutStart = Math.max(ps, first);
      const cutEnd = Math.min(pe, endSeq);
      removed += cutEnd - cutStart;
      const left = cutStart > ps ? { batch: p.batch, start: p.start, end: cutStart - p.batch.firstSeq } : undefined;
      const right = cutEnd < pe ? { batch: p.batch, start: cutEnd - p.batch.firstSeq, end: p.end } : undefined;
      if (i === this.head && !left) {
        if (right) { this.pieces[i] = right; i++; } else { this.pieces[i] = undefined as unknown as Piece; this.head++; i++; }
      } else {
        const repl = [left, right].filter((x): x is Piece => x !== undefined);
        this.pieces.splice(i, 1, ...repl);
        i += repl.length;
      }
    }
    this.available -= removed;
    this.compact();
    return removed;
  }

  /** Live pieces (queue and open takes), sorted by seq: what a checkpoint must keep. */
  protected livePieces(): Piece[] {
    const all = this.pieces.slice(this.head);
    let needSort = false;
    for (const t of this.openTakes) {
      for (const p of t.takenPieces) all.push(p);
      needSort = true;
    }
    if (needSort) all.sort((a, b) => (a.batch.firstSeq + a.start) - (b.batch.firstSeq + b.start));
    return all;
  }

  // ---- transaction plumbing ----

  private assertRunning(): void {
    if (this.state !== 'running') throw new ChannelStateError(`channel ${this.name} is stopped; the commit is refused (roll back; it is retried after restart)`);
  }

  /** @internal */
  _reservePut(events: EventBatch, already: number): number {
    this.checkPut(events);
    const n = events.count;
    if (already + n > this.transactionCapacity) throw new TransactionCapacityError(this.name, 'put', already + n, this.transactionCapacity);
    if (this.remaining() < n) throw new ChannelFullError(this.name, this.capacity);
    const bytes = this.reserveBytes(events);
    this.reserved += n;
    return bytes;
  }

  /** @internal */
  _releasePut(n: number, bytes: number): void {
    this.reserved -= n;
    this.releaseBytes(bytes);
    this.wakeAll();
  }

  /** @internal */
  _take(max: number, already: number, out: EventBatch[]): Piece[] {
    if (already + max > this.transactionCapacity) throw new TransactionCapacityError(this.name, 'take', already + max, this.transactionCapacity);
    const pieces = this.takeHead(max, out);
    for (const p of pieces) this.takenOpen += p.end - p.start;
    return pieces;
  }

  /** @internal */
  async _commitPut(events: EventBatch, marker: Marker | undefined): Promise<void> {
    this.assertRunning();
    await this.persist({ kind: 'put', events, ranges: [], marker }, (batch) => {
      // The room moves from the reservation to the queue (body bytes stay counted until taken).
      this.reserved -= events.count;
      if (batch) this.appendBatch(batch);
      if (marker) this.markers.set(marker.owner, marker.value);
      this.wakeAll();
    });
  }

  /** @internal */
  async _commitTake(tx: QueueTransaction, marker: Marker | undefined, lazy: boolean): Promise<void> {
    this.assertRunning();
    if (tx.takeCount === 0 && !marker) {
      // An empty poll of an empty channel: nothing to make durable (no log record, no fsync).
      this.openTakes.delete(tx);
      return;
    }
    const ranges = piecesToRanges(tx.takenPieces);
    await this.persist({ kind: 'take', events: NO_EVENTS, ranges, marker, lazy }, () => {
      this.takenOpen -= tx.takeCount;
      this.openTakes.delete(tx);
      if (this.tracksBytes) this.releaseBytes(tx.takenBytes());
      if (marker) this.markers.set(marker.owner, marker.value);
      this.wakeAll();
    });
  }

  /** @internal */
  _rollbackTake(tx: QueueTransaction): void {
    this.openTakes.delete(tx);
    this.takenOpen -= tx.takeCount;
    this.returnPieces(tx.takenPieces);
    this.wakeAll();
  }

  /** @internal */
  _openTake(tx: QueueTransaction): void {
    this.openTakes.add(tx);
  }

  /** Resolves every waiter (the channel stopped). */
  protected releaseWaiters(): void {
    this.wakeAll();
  }
}

const NO_EVENTS = EventBatch.empty();

/** Merges pieces (sorted by seq) into contiguous seq runs. */
export function piecesToRanges(pieces: Piece[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const p of pieces) {
    const first = p.batch.firstSeq + p.start;
    const count = p.end - p.start;
    const last = out[out.length - 1];
    if (last && last.first + last.count === first) last.count += count;
    else out.push({ first, count });
  }
  return out;
}

class QueueTransaction implements ChannelTransaction {
  private mode: 'none' | 'put' | 'take' = 'none';
  private status: 'open' | 'committing' | 'failed' | 'done' | 'rolled back' = 'open';
  private staged: EventBatch[] = [];
  private putCount = 0;
  private putBytes = 0;
  takenPieces: Piece[] = [];
  takeCount = 0;

  constructor(private readonly ch: QueuedChannel) {}

  private use(mode: 'put' | 'take'): void {
    if (this.status !== 'open') throw new ChannelStateError(`channel ${this.ch.name}: transaction is ${this.status}; begin a new one`);
    if (this.mode !== 'none' && this.mode !== mode) {
      throw new ChannelStateError(`channel ${this.ch.name}: a transaction either puts or takes; this one already ${this.mode === 'put' ? 'put' : 'took'} events`);
    }
  }

  put(events: CollectEvent[] | EventBatch): void {
    this.use('put');
    // An array is copied into a batch: the caller may reuse its array (and its bodies' memory) after put().
    const batch = asBatch(events);
    this.putBytes += this.ch._reservePut(batch, this.putCount);
    this.mode = 'put';
    this.staged.push(batch);
    this.putCount += batch.count;
  }

  take(max: number): CollectEvent[] {
    return eventsOf(this.takeBatches(max));
  }

  takeBatches(max: number): EventBatch[] {
    this.use('take');
    const out: EventBatch[] = [];
    if (max <= 0) return out;
    const pieces = this.ch._take(max, this.takeCount, out);
    if (this.mode !== 'take') this.ch._openTake(this);
    this.mode = 'take';
    for (const p of pieces) {
      this.takenPieces.push(p);
      this.takeCount += p.end - p.start;
    }
    return out;
  }

  takenBytes(): number {
    let b = 0;
    for (const p of this.takenPieces) b += p.batch.events.bytes(p.start, p.end);
    return b;
  }

  async commit(marker?: Marker, opts?: CommitOptions): Promise<void> {
    if (this.status !== 'open') throw new ChannelStateError(`channel ${this.ch.name}: cannot commit a transaction that is ${this.status}`);
    this.status = 'committing';
    try {
      if (this.mode === 'take') await this.ch._commitTake(this, marker, opts?.lazy ?? false);
      else if (this.putCount > 0 || marker) {
        const events = this.staged.length === 1 ? this.staged[0] : EventBatch.fromEvents(eventsOf(this.staged));
        await this.ch._commitPut(events, marker);
      }
      this.status = 'done';
    } catch (err) {
      this.status = 'failed';
      throw err;
    }
  }

  async rollback(): Promise<void> {
    if (this.status === 'done') throw new ChannelStateError(`channel ${this.ch.name}: cannot roll back a committed transaction`);
    if (this.status === 'committing') throw new ChannelStateError(`channel ${this.ch.name}: cannot roll back while the commit is in progress`);
    if (this.status === 'rolled back') return;
    if (this.mode === 'put') this.ch._releasePut(this.putCount, this.putBytes);
    else if (this.mode === 'take') this.ch._rollbackTake(this);
    this.status = 'rolled back';
    this.staged = [];
  }
}
