/**
 * A minimal in-memory Channel for the sink tests (the real memory and file channels live elsewhere).
 * It implements the contract of src/collect/types.ts: put or take transactions, commit with a marker,
 * rollback returning taken events to the head in order.
 *
 * `markerFile`: when given, every committed marker map and the queue are written to that file (write +
 * rename) and read back by start() — a stand-in for the durable file channel in the kill -9 test.
 * `failCommits`: the next n commits throw before changing anything — a fault injection for errors a real
 * channel gives only on disk failures, which a test cannot produce for real.
 * `hang`: commits never resolve, either before anything is committed or right after the commit was
 * persisted — freezing a sink at the two instants a crash matters (abandon the channel and reopen its
 * markerFile to "restart").
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { FileDeadLetters } from '../../../src/collect/deadletter.ts';
import type { ComponentContext } from '../../../src/collect/registry.ts';
import { asEvents, EventBatch } from '../../../src/collect/batch.ts';
import { ChannelFullError, type Channel, type ChannelTransaction, type CollectEvent, type Marker } from '../../../src/collect/types.ts';

interface Persisted { markers: Record<string, string>; events: { headers: Record<string, string>; body: string }[] }

export class TestChannel implements Channel {
  events: CollectEvent[] = [];
  readonly markers = new Map<string, string>();
  failCommits = 0;
  hang: 'before-commit' | 'after-commit' | undefined;
  commits = 0;
  private waiters: (() => void)[] = [];
  /** Events taken by open transactions: still in the channel until their take commits. */
  private readonly inFlight = new Set<CollectEvent[]>();

  constructor(readonly name = 'c1', readonly capacity = 10_000_000, private readonly markerFile?: string) {}

  async start(): Promise<void> {
    if (this.markerFile && fs.existsSync(this.markerFile)) {
      const p = JSON.parse(fs.readFileSync(this.markerFile, 'utf8')) as Persisted;
      for (const [k, v] of Object.entries(p.markers)) this.markers.set(k, v);
      this.events = p.events.map((e) => ({ headers: e.headers, body: Buffer.from(e.body, 'base64') }));
    }
  }

  async stop(): Promise<void> {}

  /** Test helper: puts and commits events outside any sink. */
  async add(events: CollectEvent[]): Promise<void> {
    const tx = this.transaction();
    tx.put(events);
    await tx.commit();
  }

  transaction(): ChannelTransaction {
    const staged: CollectEvent[] = [];
    const taken: CollectEvent[] = [];
    let done = false;
    const check = () => {
      if (done) throw new Error('transaction already committed or rolled back');
    };
    const take = (max: number): CollectEvent[] => {
      check();
      if (staged.length) throw new Error('a transaction either puts or takes');
      const got = this.events.splice(0, max);
      for (const e of got) taken.push(e);
      this.inFlight.add(taken);
      return got;
    };
    return {
      put: (batch) => {
        check();
        const events = asEvents(batch);
        if (taken.length) throw new Error('a transaction either puts or takes');
        if (this.events.length + staged.length + events.length > this.capacity) throw new ChannelFullError(this.name, this.capacity);
        staged.push(...events);
      },
      take,
      takeBatches: (max) => {
        const got = take(max);
        return got.length ? [EventBatch.fromEvents(got)] : [];
      },
      commit: async (marker?: Marker) => {
        check();
        if (this.hang === 'before-commit') return new Promise<void>(() => {});
        if (this.failCommits > 0) {
          this.failCommits--;
          throw new Error(`injected commit failure in channel ${this.name}`);
        }
        done = true;
        this.inFlight.delete(taken);
        this.commits++;
        for (const e of staged) this.events.push(e);
        if (marker) this.markers.set(marker.owner, marker.value);
        this.persist();
        if (staged.length) for (const w of this.waiters.splice(0)) w();
        if (this.hang === 'after-commit') return new Promise<void>(() => {});
      },
      rollback: async () => {
        if (done) return;
        done = true;
        this.inFlight.delete(taken);
        this.events.unshift(...taken);
      },
    };
  }

  private persist(): void {
    if (!this.markerFile) return;
    const all = [...[...this.inFlight].flat(), ...this.events];
    const p: Persisted = { markers: Object.fromEntries(this.markers), events: all.map((e) => ({ headers: e.headers, body: e.body.toString('base64') })) };
    fs.writeFileSync(`${this.markerFile}.new`, JSON.stringify(p));
    fs.renameSync(`${this.markerFile}.new`, this.markerFile);
  }

  marker(owner: string): string | undefined {
    return this.markers.get(owner);
  }

  size(): number {
    return this.events.length;
  }

  waitForEvents(timeoutMs: number): Promise<void> {
    if (this.events.length) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  async waitForSpace(_n: number, _timeoutMs: number): Promise<void> {}
}

export const ev = (body: string, headers: Record<string, string> = {}): CollectEvent => ({ headers, body: Buffer.from(body) });

/** A ComponentContext for sink tests under `root` (lake, state and dead letters inside it). */
export function sinkContext(root: string, name: string, over: Partial<ComponentContext> = {}): ComponentContext & { deadLetters: FileDeadLetters; logged: Record<string, unknown>[] } {
  const logged: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => { logged.push(JSON.parse(s) as Record<string, unknown>); } });
  return {
    agent: 'a1', name, dataDir: root, lakeRoot: path.join(root, 'lake'), stateDir: path.join(root, 'state', 'collect', 'a1'),
    brokers: [], deadLetters: new FileDeadLetters(root, 'a1'), log, logged, ...over,
  } as ComponentContext & { deadLetters: FileDeadLetters; logged: Record<string, unknown>[] };
}
