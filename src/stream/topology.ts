/**
 * The real-time driving topology (the Storm role, SEED §5):
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
 * and the watermark is saved with each commit: after a restart the engine resumes from it, so records
 * re-read from before an already-emitted window are recognised as late and not counted twice.
 */
import { DRIVER_TABLE, TOPIC, driverRowKey, parseDrivingRecordBytes } from '../core/records.ts';
import type { Bus, BusConsumer, BusProducer, ConsumedBatch } from '../bus/index.ts';
import type { TableStore, PutRow } from '../table/index.ts';
import type { HotStore, OverspeedAlert } from '../hot/index.ts';
import type { CepOutput } from '../cep/index.ts';
import { CepEngine, loadRules, watchRules } from '../cep/index.ts';
import { drivingRecordCells, ensureDriverTable } from '../table/index.ts';
import { publishOverspeed } from '../hot/index.ts';
import { counter, gauge, histogram } from '../core/metrics.ts';
import { createLogger } from '../core/log.ts';
import { errorMessage } from '../core/errors.ts';

const log = createLogger('stream');

export const DEAD_LETTER_TOPIC = `${TOPIC}.dead-letter`;
/** Table of the topology's own durable state (watermarks), beside the data tables. */
export const STREAM_STATE_TABLE = 'smartcar_stream_state';

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

/** What one partition carries: its own CEP engine (rules group by car, and cars are partitioned by key). */
interface PartitionState {
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
function isRedelivery(st: PartitionState, car: string, t: number): boolean {
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
interface Snapshot {
  outputs: { out: CepOutput; closedAt: number }[];
  pending: number | undefined;
  watermark: number;
  /** Commit no further than this offset (the last record whose table write this step awaited). */
  lastOffset: number;
}

const snapshot = (st: PartitionState, lastOffset: number): Snapshot => {
  const outputs = st.outputs;
  st.outputs = [];
  return { outputs, pending: st.engine.pendingWindowStart(), watermark: st.watermark, lastOffset };
};

export async function startTopology(opts: TopologyOptions): Promise<Topology> {
  const topic = opts.topic ?? TOPIC;
  const groupId = opts.groupId ?? 'smartcar-stream';
  const idleCloseMs = opts.idleCloseMs ?? 60_000;
  const lateness = opts.allowedLatenessMs ?? 0;
  const { table, hot, bus } = opts;

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
  const partitions = new Map<number, PartitionState>();
  const totals = { consumed: 0, stored: 0, deadLetters: 0, alerts: 0, late: 0 };
  const recent: OverspeedAlert[] = [];
  const stateRow = (partition: number) => `${groupId}/${topic}/${partition}`;
  let failure: Error | undefined;
  let stopping = false;
  let rejectFailed!: (err: Error) => void;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => {});
  /** A write that failed after its batch's handler returned: stop consuming, reject `done`. */
  const fail = (err: unknown) => {
    if (failure) return;
    failure = err instanceof Error ? err : new Error(String(err));
    log.error({ err: errorMessage(err) }, 'table/hot-store/dead-letter write failed; stopping the consumer (nothing after the last commit is lost)');
    rejectFailed(failure);
    void consumer.stop().catch(() => {});
  };

  const openPartition = async (partition: number): Promise<PartitionState> => {
    const old = partitions.get(partition);
    if (old) {
      old.watcher.close();
      totals.late += old.engine.stats().late;
    }
    const engine = new CepEngine({ clock: 'event', allowedLatenessMs: lateness });
    const st: PartitionState = {
      partition, engine, outputs: [], offsets: [], eventTimes: [], head: 0, nextOffset: null,
      maxEventTime: -Infinity, watermark: -Infinity, lastInput: Date.now(), seen: new Map(),
      watcher: { close() {} },
    };
    engine.onOutput((out) => st.outputs.push({ out, closedAt: performance.now() }));
    await loadRules(opts.rulesDir, engine);
    st.watcher = watchRules(opts.rulesDir, engine, (e) =>
      e.ok
        ? log.info({ file: e.file, partition }, 'rules reloaded')
        : log.error({ file: e.file, error: e.error, partition }, 'rule edit rejected; the previous version keeps running'),
    );
    // Resume the watermark saved with the last commit (see the file comment).
    const saved = await table.get(STREAM_STATE_TABLE, stateRow(partition));
    const w = Number(saved?.cells['s:watermark']);
    if (Number.isFinite(w)) {
      engine.advanceWatermark(w);
      st.watermark = w;
    }
    partitions.set(partition, st);
    return st;
  };

  const publish = async (outputs: Snapshot['outputs']) => {
    if (outputs.length === 0) return;
    const alerts = outputs.flatMap((o) => alertsOf(o.out));
    if (alerts.length) {
      await publishOverspeed(hot, alerts);
      recent.push(...alerts);
      if (recent.length > 20) recent.splice(0, recent.length - 20);
    }
    const now = performance.now();
    for (const o of outputs) {
      m.alertLatency.observe((now - o.closedAt) / 1000);
      opts.onAlertLatency?.(now - o.closedAt);
    }
    totals.alerts += alerts.length;
    m.alerts.inc(alerts.length);
  };

  /**
   * Commits the partition up to the first record still needed by an open window, and never past
   * `lastOffset`. Call it once the snapshot's alerts are published.
   */
  const commitUpTo = async (st: PartitionState, snap: Snapshot) => {
    const { offsets, eventTimes } = st;
    let i = st.head;
    while (i < offsets.length && offsets[i] <= snap.lastOffset && (snap.pending === undefined || eventTimes[i] < snap.pending)) i++;
    if (i === st.head) return;
    const next = offsets[i - 1] + 1;
    // The watermark first, then the offset: a crash between the two only makes re-read records late.
    await table.put(STREAM_STATE_TABLE, stateRow(st.partition), { 's:watermark': String(snap.watermark), 's:offset': String(next) });
    try {
      await consumer.commit(topic, st.partition, String(next));
    } catch (err) {
      // Only costs a re-read (writes are idempotent); the next commit of the partition covers it.
      log.warn({ err: errorMessage(err), partition: st.partition }, 'offset commit failed; will commit with the next batch');
      return;
    }
    st.head = i;
    if (st.head > 65_536 && st.head * 2 > offsets.length) {
      offsets.splice(0, st.head);
      eventTimes.splice(0, st.head);
      st.head = 0;
    }
  };

  /**
   * The previous batch's write-and-commit step. A batch is parsed and run through CEP while the batch
   * before it is still being written; its own writes start once that step is done, so table writes and
   * commits keep the bus order. At most one step is outstanding when the handler returns.
   */
  let inflight: Promise<void> = Promise.resolve();

  const handle = async (batch: ConsumedBatch) => {
    if (failure) throw failure;
    if (stopping || batch.records.length === 0) return;
    const records = batch.records;
    const first = Number(records[0].offset);
    let st = partitions.get(batch.partition);
    if (!st || (st.nextOffset !== null && st.nextOffset !== first)) {
      // Reassigned: let the old state's step finish before rebuilding from the committed position.
      await inflight;
      st = await openPartition(batch.partition);
    }
    st.lastInput = Date.now();
    const rows: PutRow[] = [];
    const dead: { value: Buffer; headers: Record<string, string> }[] = [];
    let oldestAppend = Infinity;
    const { offsets, eventTimes, engine } = st;
    let maxEventTime = st.maxEventTime;
    // Row keys start with the reversed timestamp, which consecutive records mostly share.
    let keyDate = '', keyHead = '';
    // One pass: parse, queue the row, feed CEP (its outputs wait in st.outputs for this batch's step).
    for (let k = 0; k < records.length; k++) {
      const rec = records[k];
      const parsed = parseDrivingRecordBytes(rec.value);
      offsets.push(Number(rec.offset));
      if (!parsed.ok) {
        // Handled once its dead letter is written, which happens before this batch commits.
        eventTimes.push(-Infinity);
        dead.push({ value: rec.value, headers: { reason: parsed.reason, topic, partition: String(batch.partition), offset: rec.offset } });
        continue;
      }
      const r = parsed.record;
      eventTimes.push(r.eventTime);
      if (r.date !== keyDate) {
        keyDate = r.date;
        keyHead = driverRowKey(r.date, '');
      }
      rows.push({ row: keyHead + r.carNumber, cells: drivingRecordCells(r) });
      if (rec.timestamp < oldestAppend) oldestAppend = rec.timestamp;
      if (isRedelivery(st, r.carNumber, r.eventTime)) {
        m.duplicates.inc();
        continue;
      }
      engine.send('DrivingRecord', r as unknown as Record<string, unknown>, r.eventTime);
      if (r.eventTime > maxEventTime) maxEventTime = r.eventTime;
    }
    st.maxEventTime = maxEventTime;
    const lastOffset = Number(records[records.length - 1].offset);
    st.nextOffset = lastOffset + 1;
    totals.consumed += records.length;
    m.consumed.inc({ partition: String(batch.partition) }, records.length);
    st.watermark = Math.max(st.watermark, st.maxEventTime - lateness);
    const snap = snapshot(st, lastOffset);
    const part = st;

    const prev = inflight;
    // Alerts go out at once (set adds: their order does not matter), not behind the table writes.
    const published = publish(snap.outputs);
    published.catch(() => {}); // awaited (and reported) by the step below
    const step = (async () => {
      await prev;
      if (rows.length) await table.putMany(DRIVER_TABLE, rows);
      if (Number.isFinite(oldestAppend)) m.tableLatency.observe(Math.max(0, Date.now() - oldestAppend) / 1000);
      if (dead.length) await producer.send(DEAD_LETTER_TOPIC, dead);
      totals.stored += rows.length;
      totals.deadLetters += dead.length;
      m.stored.inc(rows.length);
      m.dead.inc(dead.length);
      await published;
      await commitUpTo(part, snap);
    })();
    step.catch(fail);
    inflight = step;
    // Back-pressure: this batch was parsed while the previous one was written; wait for that write.
    await prev;
  };

  // One partition batch at a time: commits and the per-partition queues are never interleaved.
  let chain: Promise<void> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.then(() => undefined, () => undefined);
    return run;
  };

  // Idle close: when a partition's input stops, its last windows close (see idleCloseMs).
  const tick = setInterval(() => {
    void serial(async () => {
      await inflight.catch(() => {});
      if (failure) return;
      for (const st of partitions.values()) {
        if (Date.now() - st.lastInput < idleCloseMs || st.engine.pendingWindowStart() === undefined) continue;
        try {
          st.engine.flush();
          st.watermark = Math.max(st.watermark, st.maxEventTime);
          const snap = snapshot(st, Number.MAX_SAFE_INTEGER);
          await publish(snap.outputs);
          await commitUpTo(st, snap);
        } catch (err) {
          log.error({ err: errorMessage(err), partition: st.partition }, 'idle window close failed; will retry');
        }
      }
    });
  }, Math.max(100, Math.min(1000, idleCloseMs / 2)));

  const sampleLag = () =>
    bus.lag(groupId, topic).then(
      (parts) => {
        // A partition the group never committed (`-1`) is behind by its whole length.
        for (const l of parts) {
          const committed = Math.max(0, Number(l.committed));
          m.lag.set({ partition: String(l.partition) }, Math.max(0, Number(l.end) - committed));
        }
      },
      (err: unknown) => log.warn({ err: errorMessage(err) }, 'consumer lag not available'),
    ).then(() => {
      let late = totals.late;
      for (const st of partitions.values()) late += st.engine.stats().late;
      m.late.set(late);
    });
  // The first sample before consuming: from the start, /metrics shows how far behind the group is.
  await sampleLag();
  const lagTimer = setInterval(() => void sampleLag(), opts.lagIntervalMs ?? 5000);
  tick.unref();
  lagTimer.unref();

  const run = consumer.run((batch) => serial(() => handle(batch)));
  const done = Promise.race([run.then(() => { if (failure) throw failure; }), failed]);
  done.catch((err: unknown) => { failure ??= err instanceof Error ? err : new Error(String(err)); });
  let stopped = false;
  return {
    done,
    health: () => (failure ? { ok: false, reason: failure.message } : stopped ? { ok: false, reason: 'stopped' } : { ok: true }),
    recentAlerts: () => [...recent],
    stats: () => {
      let late = totals.late;
      for (const st of partitions.values()) late += st.engine.stats().late;
      return { ...totals, late };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(tick);
      clearInterval(lagTimer);
      for (const st of partitions.values()) st.watcher.close();
      // Let the last write-and-commit step finish while the consumer can still commit; batches that
      // arrive meanwhile are ignored (not committed, so read again by whoever owns the partition next).
      stopping = true;
      await serial(async () => { await inflight.catch(() => {}); });
      await consumer.stop();
      await producer.close();
    },
  };
}
