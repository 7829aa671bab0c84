/**
 * The real-time driving topology (the Storm role):
 *
 *   bus spout (SmartCar-Topic, consumer group)
 *     ├─► parse ──► table writer (DriverCarInfo, row key = reversed timestamp-car)
 *     │      └──► dead-letter topic (unparseable records, with the reason)
 *     └─► CEP (rules/*.epl, event-time windows) ──► hot-store writer (SADD day car-ts; EXPIRE 7 days)
 *
 * Delivery: a partition's offsets are committed only after the table rows, the dead letters and the
 * alerts of everything before the commit point are written. Those writes are idempotent (deterministic
 * row keys, set adds), so a replay after a crash reproduces the same state.
 *
 * CEP state lives in memory. So that a crash cannot lose a window's input, the commit point of a
 * partition never passes the first record that still belongs to an open window (`pendingWindowStart`),
 * and the watermark is saved with each commit, in the offset commit's metadata (one write, atomic with
 * the offset): after a restart the engine resumes from it, so records re-read from before an
 * already-emitted window are recognised as late and not counted twice.
 */
import { DRIVER_TABLE, TOPIC, parseDrivingRecordBytes, counter, gauge, histogram, createLogger, errorMessage } from '../core/index.ts';
import type { Bus, BusConsumer, BusProducer, ConsumedBatch } from '../bus/index.ts';
import type { TableStore } from '../table/index.ts';
import type { HotStore, OverspeedAlert } from '../hot/index.ts';
import type { CepOutput } from '../cep/index.ts';
import { CepEngine, loadRules } from '../cep/index.ts';
import { DrivingRows, ensureDriverTable } from '../table/index.ts';
import { publishOverspeed } from '../hot/index.ts';
import { STREAM_STATE_TABLE, advanceHead, commitEnd, isRedelivery, openPartition, parseWatermarkMetadata, snapshot, watermarkMetadata, type PartitionState, type Snapshot } from './partition.ts';

const log = createLogger('stream');

/** Batches read ahead of their writes and commits (a batch is up to 1 MiB a partition). */
const PIPELINE_DEPTH = 4;

export const DEAD_LETTER_TOPIC = `${TOPIC}.dead-letter`;
export { STREAM_STATE_TABLE };

const m = {
  consumed: counter('smartcar_stream_records_consumed_total', 'Records read from the bus', ['partition']),
  stored: counter('smartcar_stream_rows_stored_total', 'Driving rows written to the table store'),
  dead: counter('smartcar_stream_dead_letters_total', 'Records that did not parse, sent to the dead-letter topic'),
  alerts: counter('smartcar_stream_alerts_total', 'Overspeed alerts published to the hot store'),
  late: gauge('smartcar_stream_cep_late_events', 'Events dropped by CEP as later than the allowed lateness'),
  duplicates: counter('smartcar_stream_cep_duplicates_total', 'Records of a car and time already fed to CEP (a redelivery), not counted twice'),
  lag: gauge('smartcar_stream_consumer_lag', 'Records behind the end of the partition', ['partition']),
  tableLatency: histogram('smartcar_stream_append_to_table_seconds', 'Bus append → table write', [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  alertLatency: histogram('smartcar_stream_window_close_to_hot_seconds', 'CEP window close → hot-store write', [], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]),
};

export interface TopologyOptions {
  bus: Bus;
  table: TableStore;
  hot: HotStore;
  /** Directory of `*.epl` rules, hot-reloaded on change. */
  rulesDir: string;
  groupId?: string;
  topic?: string;
  /** How far behind the newest event time an event may arrive and still count (ms). */
  allowedLatenessMs?: number;
  /**
   * When a partition has been idle this long (wall ms), the watermark moves past the newest event
   * seen, so the last windows close even when the cars stop sending. Default 60 s: longer than a
   * component's restart, since an upstream outage (broker or agent restarting) looks the same as cars that
   * stopped, and closing then would publish the windows open at its start with only part of their records
   * (found by `npm run soak:platform`: restarts took up to 36 s).
   */
  idleCloseMs?: number;
  /** Group session timeout: how soon a dead worker's partitions move to the others. */
  sessionTimeoutMs?: number;
  /** How often consumer lag is sampled (ms); default 5000. */
  lagIntervalMs?: number;
  /** Bytes fetched per partition and request (default 1 MiB). */
  maxBytesPerPartition?: number;
  /** Called with each window-close → hot-store-write latency (ms), e.g. by the benchmark. */
  onAlertLatency?: (ms: number) => void;
}

export interface Topology {
  stop(): Promise<void>;
  /** Resolves when the consumer stops (rejects with its error when it fails). */
  done: Promise<void>;
  stats(): { consumed: number; stored: number; deadLetters: number; alerts: number; late: number };
  /** ok while the consumer runs; the reason once it failed or stopped. */
  health(): { ok: boolean; reason?: string };
  /** The newest alerts published (at most 20), newest last. */
  recentAlerts(): OverspeedAlert[];
}

/** The alert of one CEP output row; rules may name the aggregate `avgSpeed` or leave it as `avg(speed)`. */
export function alertsOf(out: CepOutput): OverspeedAlert[] {
  const alerts: OverspeedAlert[] = [];
  for (const row of out.rows) {
    const carNumber = String(row.carNumber ?? row.car_number ?? '');
    const date = String(row.date ?? row.r_date ?? '');
    if (!carNumber || !/^\d{14}$/.test(date)) {
      log.warn({ statement: out.statement, row }, 'rule output lacks carNumber/date; not published');
      continue;
    }
    const avg = Number(row.avgSpeed ?? row['avg(speed)'] ?? row.avg_speed ?? NaN);
    alerts.push({ carNumber, date, avgSpeed: avg, windowStart: out.windowStart ?? NaN, windowEnd: out.windowEnd ?? NaN });
  }
  return alerts;
}

export async function startTopology(opts: TopologyOptions): Promise<Topology> {
  const topic = opts.topic ?? TOPIC;
  const groupId = opts.groupId ?? 'smartcar-stream';
  const { table, bus } = opts;

  await ensureDriverTable(table);
  await table.createTable({ name: STREAM_STATE_TABLE, families: ['s'] });
  // Validate the rules once up front: a broken rules directory is a start-up error, not a silent no-op.
  await loadRules(opts.rulesDir, new CepEngine({ clock: 'event' }));

  const producer: BusProducer = await bus.producer({ acks: -1 });
  const consumer: BusConsumer = await bus.consumer({
    groupId, topics: [topic], fromBeginning: true, manualCommit: true, sessionTimeoutMs: opts.sessionTimeoutMs,
    // 1 MiB (~10,000 records) per partition and fetch: a batch's objects then mostly die young (measured
    // with bench:stream: 4 MiB batches spent more time in GC, promoted while written).
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 1024 * 1024,
  });
  const t = new DrivingTopology(opts, topic, groupId, producer, consumer);
  // The first sample before consuming: from the start, /metrics shows how far behind the group is.
  await t.sampleLag();
  return t.start();
}

/** A batch read from one partition, parsed: the rows to write, the dead letters, the oldest append time. */
interface ParsedBatch {
  rows: DrivingRows;
  dead: { value: Buffer; headers: Record<string, string> }[];
  oldestAppend: number;
  lastOffset: number;
}

/** The running topology: the consumer's handler, the write-and-commit steps, the timers. */
class DrivingTopology {
  private readonly idleCloseMs: number;
  private readonly lateness: number;
  private readonly table: TableStore;
  private readonly hot: HotStore;
  private readonly partitions = new Map<number, PartitionState>();
  private readonly totals = { consumed: 0, stored: 0, deadLetters: 0, alerts: 0, late: 0 };
  private readonly recent: OverspeedAlert[] = [];
  private failure: Error | undefined;
  private stopping = false;
  private stopped = false;
  private rejectFailed!: (err: Error) => void;
  private readonly failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
  /** The previous batch's table and dead-letter writes (each batch's writes follow the ones before). */
  private written: Promise<void> = Promise.resolve();
  /** The previous batch's commit (its offset and watermark), which implies every earlier write and commit. */
  private inflight: Promise<void> = Promise.resolve();
  /** The commits of the batches in flight, oldest first (see PIPELINE_DEPTH). */
  private readonly pipeline: Promise<void>[] = [];
  /** One partition batch at a time: commits and the per-partition queues are never interleaved. */
  private chain: Promise<void> = Promise.resolve();
  private tick: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: TopologyOptions, private readonly topic: string, private readonly groupId: string,
    private readonly producer: BusProducer, private readonly consumer: BusConsumer) {
    this.idleCloseMs = opts.idleCloseMs ?? 60_000;
    this.lateness = opts.allowedLatenessMs ?? 0;
    this.table = opts.table;
    this.hot = opts.hot;
    this.failed.catch(() => {});
  }

  start(): Topology {
    // Idle close: when a partition's input stops, its last windows close (see idleCloseMs).
    this.tick = setInterval(() => void this.serial(() => this.closeIdle()), Math.max(100, Math.min(1000, this.idleCloseMs / 2)));
    this.lagTimer = setInterval(() => void this.sampleLag(), this.opts.lagIntervalMs ?? 5000);
    this.tick.unref();
    this.lagTimer.unref();
    const run = this.consumer.run((batch) => this.serial(() => this.handle(batch)));
    const done = Promise.race([run.then(() => { if (this.failure) throw this.failure; }), this.failed]);
    done.catch((err: unknown) => { this.failure ??= err instanceof Error ? err : new Error(String(err)); });
    return {
      done,
      health: () => (this.failure ? { ok: false, reason: this.failure.message } : this.stopped ? { ok: false, reason: 'stopped' } : { ok: true }),
      recentAlerts: () => [...this.recent],
      stats: () => ({ ...this.totals, late: this.late() }),
      stop: () => this.stop(),
    };
  }

  private stateRow(partition: number): string {
    return `${this.groupId}/${this.topic}/${partition}`;
  }

  private late(): number {
    let late = this.totals.late;
    for (const st of this.partitions.values()) late += st.engine.stats().late;
    return late;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.then(() => undefined, () => undefined);
    return run;
  }

  /** A write that failed after its batch's handler returned: stop consuming, reject `done`. */
  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    log.error({ err: errorMessage(err) }, 'table/hot-store/dead-letter write failed; stopping the consumer (nothing after the last commit is lost)');
    this.rejectFailed(this.failure);
    void this.consumer.stop().catch(() => {});
  }

  private async openPartition(partition: number): Promise<PartitionState> {
    const old = this.partitions.get(partition);
    if (old) {
      old.watcher.close();
      this.totals.late += old.engine.stats().late;
    }
    const st = await openPartition(partition, this.opts.rulesDir, this.lateness, await this.savedWatermark(partition), log);
    this.partitions.set(partition, st);
    return st;
  }

  /** The watermark committed with the partition's offset; else the state row of earlier versions. */
  private async savedWatermark(partition: number): Promise<number | undefined> {
    const committed = (await this.opts.bus.committed(this.groupId, this.topic)).find((c) => c.partition === partition);
    const w = parseWatermarkMetadata(committed?.metadata);
    if (w !== undefined) return w;
    const row = await this.table.get(STREAM_STATE_TABLE, this.stateRow(partition));
    const old = Number(row?.cells['s:watermark']);
    return Number.isFinite(old) ? old : undefined;
  }

  private async publish(outputs: Snapshot['outputs']): Promise<void> {
    if (outputs.length === 0) return;
    const alerts = outputs.flatMap((o) => alertsOf(o.out));
    if (alerts.length) {
      await publishOverspeed(this.hot, alerts);
      this.recent.push(...alerts);
      if (this.recent.length > 20) this.recent.splice(0, this.recent.length - 20);
    }
    const now = performance.now();
    for (const o of outputs) {
      m.alertLatency.observe((now - o.closedAt) / 1000);
      this.opts.onAlertLatency?.(now - o.closedAt);
    }
    this.totals.alerts += alerts.length;
    m.alerts.inc(alerts.length);
  }

  /**
   * Commits the partition up to the first record still needed by an open window, and never past
   * `lastOffset`. Call it once the snapshot's alerts are published.
   */
  private async commitUpTo(st: PartitionState, snap: Snapshot): Promise<void> {
    const i = commitEnd(st, snap);
    if (i === st.head) return;
    const next = st.offsets[i - 1] + 1;
    try {
      await this.consumer.commit(this.topic, st.partition, String(next), watermarkMetadata(snap.watermark));
    } catch (err) {
      // Only costs a re-read (writes are idempotent); the next commit of the partition covers it.
      log.warn({ err: errorMessage(err), partition: st.partition }, 'offset commit failed; will commit with the next batch');
      return;
    }
    advanceHead(st, i);
  }

  /** One pass over a batch: parse, queue the row, feed CEP (its outputs wait in st.outputs for the batch's step). */
  private parse(st: PartitionState, batch: ConsumedBatch): ParsedBatch {
    const records = batch.records;
    const rows = new DrivingRows();
    const dead: ParsedBatch['dead'] = [];
    let oldestAppend = Infinity;
    const { offsets, eventTimes, engine } = st;
    let maxEventTime = st.maxEventTime;
    // A batch's offsets are mostly consecutive: then they are counted, not each converted from its string.
    const firstOffset = Number(records[0].offset);
    const consecutive = Number(records[records.length - 1].offset) - firstOffset === records.length - 1;
    for (let k = 0; k < records.length; k++) {
      const rec = records[k];
      const parsed = parseDrivingRecordBytes(rec.value);
      offsets.push(consecutive ? firstOffset + k : Number(rec.offset));
      if (!parsed.ok) {
        // Handled once its dead letter is written, which happens before this batch commits.
        eventTimes.push(-Infinity);
        dead.push({ value: rec.value, headers: { reason: parsed.reason, topic: this.topic, partition: String(batch.partition), offset: rec.offset } });
        continue;
      }
      const r = parsed.record;
      eventTimes.push(r.eventTime);
      rows.push(r);
      if (rec.timestamp < oldestAppend) oldestAppend = rec.timestamp;
      if (isRedelivery(st, r.carNumber, r.eventTime)) {
        m.duplicates.inc();
        continue;
      }
      engine.send('DrivingRecord', r as unknown as Record<string, unknown>, r.eventTime);
      if (r.eventTime > maxEventTime) maxEventTime = r.eventTime;
    }
    st.maxEventTime = maxEventTime;
    return { rows, dead, oldestAppend, lastOffset: Number(records[records.length - 1].offset) };
  }

  private async handle(batch: ConsumedBatch): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.stopping || batch.records.length === 0) return;
    const records = batch.records;
    const first = Number(records[0].offset);
    let st = this.partitions.get(batch.partition);
    if (!st || (st.nextOffset !== null && st.nextOffset !== first)) {
      // Reassigned: let the old state's step finish before rebuilding from the committed position. A
      // partition seen for the first time has no such step: waiting for the other partitions' commits
      // would only delay its first batch (a group member's start-up, `npm run bench:stream`).
      if (st) await this.inflight;
      st = await this.openPartition(batch.partition);
    }
    st.lastInput = Date.now();
    const { rows, dead, oldestAppend, lastOffset } = this.parse(st, batch);
    st.nextOffset = lastOffset + 1;
    this.totals.consumed += records.length;
    m.consumed.inc({ partition: String(batch.partition) }, records.length);
    st.watermark = Math.max(st.watermark, st.maxEventTime - this.lateness);
    const snap = snapshot(st, lastOffset);
    const part = st;

    const prevWrite = this.written;
    const prevCommit = this.inflight;
    // Alerts go out at once (set adds: their order does not matter), not behind the table writes.
    const published = this.publish(snap.outputs);
    published.catch(() => {}); // awaited (and reported) by the commit below
    // Table writes keep the bus order: a store that applies writes in call order takes the rows now,
    // any other store after the previous batch's writes ...
    const early = rows.length && this.table.orderedWrites ? this.table.putMany(DRIVER_TABLE, rows) : undefined;
    early?.catch(() => {}); // awaited (and reported) below
    const write = (async () => {
      await prevWrite;
      if (rows.length) await (early ?? this.table.putMany(DRIVER_TABLE, rows));
      if (Number.isFinite(oldestAppend)) m.tableLatency.observe(Math.max(0, Date.now() - oldestAppend) / 1000);
      if (dead.length) await this.producer.send(DEAD_LETTER_TOPIC, dead);
      this.totals.stored += rows.length;
      this.totals.deadLetters += dead.length;
      m.stored.inc(rows.length);
      m.dead.inc(dead.length);
    })();
    // ... and its commit follows its own writes and alerts and the previous commit (offsets only move
    // forward), while the next batch's rows are already being written.
    const commit = (async () => {
      await write;
      await prevCommit;
      await published;
      await this.commitUpTo(part, snap);
    })();
    write.catch((err: unknown) => this.fail(err));
    commit.catch((err: unknown) => this.fail(err));
    this.written = write;
    this.inflight = commit;
    this.pipeline.push(commit);
    // Back-pressure: the next batch is read and parsed while this one and those before it are written
    // and committed, up to PIPELINE_DEPTH batches; wait once more are in flight.
    if (this.pipeline.length > PIPELINE_DEPTH) await this.pipeline.shift();
  }

  /** Closes the open windows of partitions idle for idleCloseMs, publishes and commits what they held. */
  private async closeIdle(): Promise<void> {
    await this.inflight.catch(() => {});
    if (this.failure) return;
    for (const st of this.partitions.values()) {
      if (Date.now() - st.lastInput < this.idleCloseMs || st.engine.pendingWindowStart() === undefined) continue;
      try {
        st.engine.flush();
        st.watermark = Math.max(st.watermark, st.maxEventTime);
        const snap = snapshot(st, Number.MAX_SAFE_INTEGER);
        await this.publish(snap.outputs);
        await this.commitUpTo(st, snap);
      } catch (err) {
        log.error({ err: errorMessage(err), partition: st.partition }, 'idle window close failed; will retry');
      }
    }
  }

  sampleLag(): Promise<void> {
    return this.opts.bus.lag(this.groupId, this.topic).then(
      (parts) => {
        // A partition the group never committed (`-1`) is behind by its whole length.
        for (const l of parts) {
          const committed = Math.max(0, Number(l.committed));
          m.lag.set({ partition: String(l.partition) }, Math.max(0, Number(l.end) - committed));
        }
      },
      (err: unknown) => log.warn({ err: errorMessage(err) }, 'consumer lag not available'),
    ).then(() => {
      m.late.set(this.late());
    });
  }

  private async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.tick);
    clearInterval(this.lagTimer);
    for (const st of this.partitions.values()) st.watcher.close();
    // Let the last write-and-commit step finish while the consumer can still commit; batches that
    // arrive meanwhile are ignored (not committed, so read again by whoever owns the partition next).
    this.stopping = true;
    await this.serial(async () => { await this.inflight.catch(() => {}); });
    await this.consumer.stop();
    await this.producer.close();
  }
}
