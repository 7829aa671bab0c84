/** Prometheus metrics shared by every sink, labelled `agent` and `component` (the sink's name), and the take step they share. */
import { counter, gauge } from '../../core/index.ts';
import { countOf, type EventBatch } from '../batch.ts';
import type { Channel } from '../types.ts';

const labels = ['agent', 'component'];

export const sinkMetrics = {
  taken: counter('smartcar_collect_sink_events_taken_total', 'Events taken from the channel by a sink', labels),
  delivered: counter('smartcar_collect_sink_events_delivered_total', 'Events delivered and committed by a sink', labels),
  bytes: counter('smartcar_collect_sink_bytes_total', 'Body bytes delivered and committed by a sink', labels),
  errors: counter('smartcar_collect_sink_errors_total', 'Failed sink batches (rolled back, retried)', labels),
  batches: counter('smartcar_collect_sink_batches_total', 'Committed sink batches', labels),
  deadLetters: counter('smartcar_collect_sink_dead_letters_total', 'Events a sink sent to the dead letters', labels),
  filesOpened: counter('smartcar_collect_sink_files_opened_total', 'Lake files opened by the hdfs sink', labels),
  filesClosed: counter('smartcar_collect_sink_files_closed_total', 'Lake files closed (renamed) by the hdfs sink', labels),
  openFiles: gauge('smartcar_collect_sink_open_files', 'Lake files open (in use) in the hdfs sink', labels),
};

/** A sink's metric children, bound to its labels once. */
export function boundSinkMetrics(agent: string, component: string) {
  const l = { agent, component };
  return {
    taken: sinkMetrics.taken.labels(l),
    delivered: sinkMetrics.delivered.labels(l),
    bytes: sinkMetrics.bytes.labels(l),
    errors: sinkMetrics.errors.labels(l),
    batches: sinkMetrics.batches.labels(l),
    deadLetters: sinkMetrics.deadLetters.labels(l),
    filesOpened: sinkMetrics.filesOpened.labels(l),
    filesClosed: sinkMetrics.filesClosed.labels(l),
    openFiles: sinkMetrics.openFiles.labels(l),
  };
}

export type SinkMetrics = ReturnType<typeof boundSinkMetrics>;

/**
 * The take step of a simple sink: take ≤ `max` events in one transaction, hand them to `deliver` (as the
 * channel's batches: `eventsOf` gives one object per event to a sink that needs them), commit
 * only after it resolved (counting what it reports), or roll back and rethrow. An empty take still
 * commits (nothing to deliver). `deliver` returns the body bytes and how many events it delivered
 * (the rest, if any, it set aside itself, e.g. as dead letters).
 */
export async function takeAndDeliver(channel: Channel, max: number, m: SinkMetrics, deliver: (batches: EventBatch[]) => Promise<{ bytes: number; delivered: number }> | { bytes: number; delivered: number }): Promise<number> {
  const tx = channel.transaction();
  try {
    const batches = tx.takeBatches(max);
    const count = countOf(batches);
    m.taken.inc(count);
    if (!count) {
      await tx.commit();
      return 0;
    }
    const { bytes, delivered } = await deliver(batches);
    await tx.commit();
    m.delivered.inc(delivered);
    m.bytes.inc(bytes);
    m.batches.inc();
    return count;
  } catch (err) {
    m.errors.inc();
    await tx.rollback().catch(() => undefined);
    throw err;
  }
}
