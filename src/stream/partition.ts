/**
 * One bus partition's share of the topology: its own CEP engine (rules group by car, and cars are
 * partitioned by key), the offsets and event times read but not committed, and the watermark. What may be
 * committed is decided here (see commitEnd); the topology does the writes.
 */
import type { CepOutput } from '../cep/index.ts';
import { CepEngine, loadRules, watchRules } from '../cep/index.ts';
import type { Logger } from '../core/index.ts';

/**
 * Table where versions before the watermark moved into the offset commit's metadata saved it (read
 * only, as a fallback, so that a store written by them resumes its watermarks).
 */
export const STREAM_STATE_TABLE = 'smartcar_stream_state';

/** The offset commit's metadata that carries a partition's watermark: `watermark=<event time, ms>`. */
export const watermarkMetadata = (watermark: number): string => (Number.isFinite(watermark) ? `watermark=${watermark}` : '');

export function parseWatermarkMetadata(metadata: string | undefined): number | undefined {
  const m = /^watermark=(-?\d+(?:\.\d+)?)$/.exec(metadata ?? '');
  return m ? Number(m[1]) : undefined;
}

/** What one partition carries: its own CEP engine (rules group by car, and cars are partitioned by key). */
export interface PartitionState {
  partition: number;
  engine: CepEngine;
  watcher: { close(): void };
  outputs: { out: CepOutput; closedAt: number }[];
  /**
   * Offsets and event times read but not yet committed, in offset order, from index `head` on
   * (numbers: offsets stay far below 2^53; the consumed prefix is dropped in chunks).
   */
  offsets: number[];
  eventTimes: number[];
  head: number;
  /** Offset expected next; a gap means the partition was reassigned and state must be rebuilt. */
  nextOffset: number | null;
  maxEventTime: number;
  watermark: number;
  lastInput: number;
  /** Per car, the event times fed to CEP that may still sit in an open window (see isRedelivery). */
  seen: Map<string, number[]>;
}

/**
 * The collection agent's Kafka sink is at-least-once: after a crash it may send a batch again. The table
 * absorbs that (same row key), but CEP would count the record twice in its window's average. A car sends
 * one record per timestamp, so a record whose car and event time were already fed to CEP is a redelivery:
 * it is skipped there. Times older than the first still-open window are forgotten (CEP drops such records
 * as late anyway), so the memory is a window's worth of times per car.
 */
export function isRedelivery(st: PartitionState, car: string, t: number): boolean {
  let times = st.seen.get(car);
  if (!times) {
    st.seen.set(car, (times = []));
  } else {
    for (let i = times.length - 1; i >= 0; i--) if (times[i] === t) return true;
    if (times.length >= 64) {
      const open = st.engine.pendingWindowStart() ?? st.watermark;
      const keep = times.filter((x) => x >= open);
      times.length = 0;
      times.push(...keep.slice(-63));
    }
  }
  times.push(t);
  return false;
}

/**
 * What a batch hands to its write-and-commit step, taken synchronously right after its events went
 * through CEP: the alerts of the windows they closed, the first still-open window and the watermark.
 * Taken together, every window that closed before `watermark` is either in `outputs` or was published
 * by an earlier step, and every record of an open window starts at or after `pending`.
 */
export interface Snapshot {
  outputs: { out: CepOutput; closedAt: number }[];
  pending: number | undefined;
  watermark: number;
  /** Commit no further than this offset (the last record whose table write this step awaited). */
  lastOffset: number;
}

export const snapshot = (st: PartitionState, lastOffset: number): Snapshot => {
  const outputs = st.outputs;
  st.outputs = [];
  return { outputs, pending: st.engine.pendingWindowStart(), watermark: st.watermark, lastOffset };
};

/**
 * A fresh state for `partition`: a new engine with the rules of `rulesDir` (watched, hot-reloaded) and
 * the watermark saved with the partition's last commit (`savedWatermark`, undefined when none).
 */
export async function openPartition(partition: number, rulesDir: string, allowedLatenessMs: number, savedWatermark: number | undefined, log: Logger): Promise<PartitionState> {
  const engine = new CepEngine({ clock: 'event', allowedLatenessMs });
  const st: PartitionState = {
    partition, engine, outputs: [], offsets: [], eventTimes: [], head: 0, nextOffset: null,
    maxEventTime: -Infinity, watermark: -Infinity, lastInput: Date.now(), seen: new Map(),
    watcher: { close() {} },
  };
  engine.onOutput((out) => st.outputs.push({ out, closedAt: performance.now() }));
  await loadRules(rulesDir, engine);
  st.watcher = watchRules(rulesDir, engine, (e) =>
    e.ok
      ? log.info({ file: e.file, partition }, 'rules reloaded')
      : log.error({ file: e.file, error: e.error, partition }, 'rule edit rejected; the previous version keeps running'),
  );
  // Resume the watermark saved with the last commit (see the file comment of topology.ts).
  if (savedWatermark !== undefined && Number.isFinite(savedWatermark)) {
    engine.advanceWatermark(savedWatermark);
    st.watermark = savedWatermark;
  }
  return st;
}

/**
 * Index (into `st.offsets`) just past the last record that may be committed: up to the first record still
 * needed by an open window, and never past `snap.lastOffset`. Equal to `st.head` when nothing may be.
 */
export function commitEnd(st: PartitionState, snap: Snapshot): number {
  const { offsets, eventTimes } = st;
  let i = st.head;
  while (i < offsets.length && offsets[i] <= snap.lastOffset && (snap.pending === undefined || eventTimes[i] < snap.pending)) i++;
  return i;
}

/** Moves the committed head to `i`, dropping the consumed prefix in chunks. */
export function advanceHead(st: PartitionState, i: number): void {
  st.head = i;
  if (st.head > 65_536 && st.head * 2 > st.offsets.length) {
    st.offsets.splice(0, st.head);
    st.eventTimes.splice(0, st.head);
    st.head = 0;
  }
}
