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
import { DRIVER_TABLE, TOPIC, driverRowKey, parseDrivingRecord, type DrivingRecord } from '../core/records.ts';
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
   * seen, so the last windows close even when the cars stop sending. Default 10 s.
   */
  idleCloseMs?: number;
  /** Group session timeout: how soon a dead worker's partitions move to the others. */
  sessionTimeoutMs?: number;
  /** Called with each window-close → hot-store-write latency (ms), e.g. by the benchmark. */
  onAlertLatency?: (ms: number) => void;
}

export interface Topology {
  stop(): Promise<void>;
  /** Resolves when the consumer stops (rejects with its error when it fails). */
  done: Promise<void>;
  stats(): { consumed: number; stored: number; deadLetters: number; alerts: number; late: number };
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
  /** Offsets and event times read but not yet committed, in offset order. */
  offsets: bigint[];
  eventTimes: number[];
  /** Offset expected next; a gap means the partition was reassigned and state must be rebuilt. */
  nextOffset: bigint | null;
  maxEventTime: number;
  watermark: number;
  lastInput: number;
}

export async function startTopology(opts: TopologyOptions): Promise<Topology> {
  const topic = opts.topic ?? TOPIC;
  const groupId = opts.groupId ?? 'smartcar-stream';
  const idleCloseMs = opts.idleCloseMs ?? 10_000;
  const lateness = opts.allowedLatenessMs ?? 0;
  const { table, hot, bus } = opts;

  await ensureDriverTable(table);
  await table.createTable({ name: STREAM_STATE_TABLE, families: ['s'] });
  // Validate the rules once up front: a broken rules directory is a start-up error, not a silent no-op.
  await loadRules(opts.rulesDir, new CepEngine({ clock: 'event' }));

  const producer: BusProducer = await bus.producer({ acks: -1 });
  const consumer: BusConsumer = await bus.consumer({ groupId, topics: [topic], fromBeginning: true, manualCommit: true, sessionTimeoutMs: opts.sessionTimeoutMs });
  const partitions = new Map<number, PartitionState>();
  const totals = { consumed: 0, stored: 0, deadLetters: 0, alerts: 0, late: 0 };
  const recent: OverspeedAlert[] = [];
  const stateRow = (partition: number) => `${groupId}/${topic}/${partition}`;

  const openPartition = async (partition: number): Promise<PartitionState> => {
    const old = partitions.get(partition);
    if (old) {
      old.watcher.close();
      totals.late += old.engine.stats().late;
    }
    const engine = new CepEngine({ clock: 'event', allowedLatenessMs: lateness });
    const st: PartitionState = {
      partition, engine, outputs: [], offsets: [], eventTimes: [], nextOffset: null,
      maxEventTime: -Infinity, watermark: -Infinity, lastInput: Date.now(),
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

  const publish = async (st: PartitionState) => {
    if (st.outputs.length === 0) return;
    const batch = st.outputs;
    st.outputs = [];
    const alerts = batch.flatMap((o) => alertsOf(o.out));
    if (alerts.length) {
      await publishOverspeed(hot, alerts);
      recent.push(...alerts);
      if (recent.length > 20) recent.splice(0, recent.length - 20);
    }
    const now = performance.now();
    for (const o of batch) {
      m.alertLatency.observe((now - o.closedAt) / 1000);
      opts.onAlertLatency?.(now - o.closedAt);
    }
    totals.alerts += alerts.length;
    m.alerts.inc(alerts.length);
  };

  /** Commits the partition up to the first record still needed by an open window. */
  const commitSafe = async (st: PartitionState) => {
    const open = st.engine.pendingWindowStart();
    let keep = st.offsets.length;
    if (open !== undefined) {
      keep = st.eventTimes.findIndex((t) => t >= open);
      if (keep === -1) keep = st.offsets.length;
    }
    if (keep === 0) return;
    const next = st.offsets[keep - 1] + 1n;
    // The watermark first, then the offset: a crash between the two only makes re-read records late.
    await table.put(STREAM_STATE_TABLE, stateRow(st.partition), { 's:watermark': String(st.watermark), 's:offset': String(next) });
    await consumer.commit(topic, st.partition, next.toString());
    st.offsets.splice(0, keep);
    st.eventTimes.splice(0, keep);
  };

  const handle = async (batch: ConsumedBatch) => {
    if (batch.records.length === 0) return;
    const first = BigInt(batch.records[0].offset);
    let st = partitions.get(batch.partition);
    if (!st || (st.nextOffset !== null && st.nextOffset !== first)) st = await openPartition(batch.partition);
    st.lastInput = Date.now();
    const rows: PutRow[] = [];
    const dead: { value: Buffer; headers: Record<string, string> }[] = [];
    const good: DrivingRecord[] = [];
    let oldestAppend = Infinity;
    for (const rec of batch.records) {
      const parsed = parseDrivingRecord(rec.value.toString('utf8'));
      st.offsets.push(BigInt(rec.offset));
      if (!parsed.ok) {
        // Handled once its dead letter is written, which happens before this batch commits.
        st.eventTimes.push(-Infinity);
        dead.push({ value: rec.value, headers: { reason: parsed.reason, topic, partition: String(batch.partition), offset: rec.offset } });
        continue;
      }
      const r = parsed.record;
      st.eventTimes.push(r.eventTime);
      good.push(r);
      rows.push({ row: driverRowKey(r.date, r.carNumber), cells: drivingRecordCells(r) });
      if (rec.timestamp < oldestAppend) oldestAppend = rec.timestamp;
    }
    st.nextOffset = BigInt(batch.records[batch.records.length - 1].offset) + 1n;
    totals.consumed += batch.records.length;
    m.consumed.inc({ partition: String(batch.partition) }, batch.records.length);

    if (rows.length) await table.putMany(DRIVER_TABLE, rows);
    if (Number.isFinite(oldestAppend)) m.tableLatency.observe(Math.max(0, Date.now() - oldestAppend) / 1000);
    if (dead.length) await producer.send(DEAD_LETTER_TOPIC, dead);
    totals.stored += rows.length;
    totals.deadLetters += dead.length;
    m.stored.inc(rows.length);
    m.dead.inc(dead.length);

    for (const r of good) {
      st.engine.send('DrivingRecord', r as unknown as Record<string, unknown>, r.eventTime);
      if (r.eventTime > st.maxEventTime) st.maxEventTime = r.eventTime;
    }
    st.watermark = Math.max(st.watermark, st.maxEventTime - lateness);
    await publish(st);
    await commitSafe(st);
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
      for (const st of partitions.values()) {
        if (Date.now() - st.lastInput < idleCloseMs || st.engine.pendingWindowStart() === undefined) continue;
        try {
          st.engine.flush();
          st.watermark = Math.max(st.watermark, st.maxEventTime);
          await publish(st);
          await commitSafe(st);
        } catch (err) {
          log.error({ err: errorMessage(err), partition: st.partition }, 'idle window close failed; will retry');
        }
      }
    });
  }, Math.max(100, Math.min(1000, idleCloseMs / 2)));

  const lagTimer = setInterval(() => {
    bus.lag(groupId, topic).then(
      (parts) => {
        for (const l of parts) m.lag.set({ partition: String(l.partition) }, Math.max(0, Number(BigInt(l.end) - BigInt(l.committed || '0'))));
      },
      () => {},
    );
    let late = 0;
    for (const st of partitions.values()) late += st.engine.stats().late;
    m.late.set(late);
  }, 5000);
  tick.unref();
  lagTimer.unref();

  const done = consumer.run((batch) => serial(() => handle(batch)));
  let stopped = false;
  return {
    done,
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
      await consumer.stop();
      await serial(async () => {});
      await producer.close();
    },
  };
}
