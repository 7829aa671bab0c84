/**
 * Produce Request (Version: 3–5) => transactional_id:nullable_string acks:int16 timeout_ms:int32 [topic_data]
 *   topic_data => name:string [partition_data]
 *     partition_data => index:int32 records:bytes          (one or more record batches v2)
 * Produce Response (Version: 3–5) => [responses] throttle_time_ms:int32
 *   responses => name:string [partition_responses]
 *     partition_responses => index:int32 error_code:int16 base_offset:int64 log_append_time_ms:int64
 *                            log_start_offset:int64(v5+)
 *   (acks=0: no response at all)
 *
 * Each partition's batches are checked (CRC, magic, lengths) and appended as sent; only the base offset
 * is written into them. A corrupt batch is refused for its partition alone; a write the disk refuses is
 * KAFKA_STORAGE_ERROR for that partition (the log is cut back; producers retry).
 */
import { API, BatchError, E, scanBatches, Writer } from '../../kafka/index.ts';
import { m } from '../metrics.ts';
import { StorageError } from '../log.ts';
import { throttle, type ApiHandler } from './types.ts';

export const produce: ApiHandler = {
  key: API.Produce,
  versions: [3, 5],
  handle({ version: v, r, clientId, conn }, b) {
    r.nullableString();
    const acks = r.int16();
    r.int32();
    const topics = r.array((x) => ({ name: x.string(), parts: x.array((y) => ({ p: y.int32(), data: y.bytes() })) ?? [] })) ?? [];
    const results: { name: string; parts: { p: number; error: number; base: bigint; start: bigint }[] }[] = [];
    for (const t of topics) {
      const logs = b.storage.topics.get(t.name);
      const parts = [];
      for (const pd of t.parts) {
        const l = logs?.[pd.p];
        if (!l) { parts.push({ p: pd.p, error: E.UNKNOWN_TOPIC_OR_PARTITION, base: -1n, start: -1n }); continue; }
        if (!pd.data || pd.data.length === 0) { parts.push({ p: pd.p, error: E.CORRUPT_MESSAGE, base: -1n, start: l.logStart }); continue; }
        try {
          // Copy: the request buffer is reused by the connection, and base offsets are written in place.
          const data = Buffer.from(pd.data);
          const { batches } = scanBatches(data, true, false);
          const base = l.append(data, batches, acks === -1 && b.fsyncAcks);
          m.records.inc(batches.reduce((s, x) => s + x.recordCount, 0));
          b.storage.notify(l);
          b.storageOk();
          parts.push({ p: pd.p, error: E.NONE, base, start: l.logStart });
        } catch (err) {
          if (err instanceof StorageError) {
            b.storageFailed(err);
            parts.push({ p: pd.p, error: E.KAFKA_STORAGE_ERROR, base: -1n, start: l.logStart });
            continue;
          }
          if (!(err instanceof BatchError)) throw err;
          m.errors.inc({ reason: 'corrupt_batch' });
          b.log.warn({ topic: t.name, partition: pd.p, client: clientId, remote: conn.remote, err: err.message }, 'rejected a corrupt record batch');
          parts.push({ p: pd.p, error: E.CORRUPT_MESSAGE, base: -1n, start: l.logStart });
        }
      }
      results.push({ name: t.name, parts });
    }
    if (acks === 0) return null;
    const w = new Writer();
    w.array(results, (x, t) => x.string(t.name).array(t.parts, (y, p) => {
      y.int32(p.p).int16(p.error).int64(p.base).int64(-1n);
      if (v >= 5) y.int64(p.start);
    }));
    throttle(w, v, 1);
    return w;
  },
};
