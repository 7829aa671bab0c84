/**
 * The Kafka requests the bus producer speaks, encoded straight into Buffers (non-flexible versions only:
 * the embedded broker advertises nothing newer, and Apache Kafka still accepts all of them).
 *
 * Every request is framed as
 *   Request => size:int32 header body
 *   Request Header (Version: 1) => api_key:int16 api_version:int16 correlation_id:int32 client_id:nullable_string
 * and every response as
 *   Response => size:int32 correlation_id:int32 body
 *
 * ApiVersions Request (Version: 0) =>                                   (empty body)
 * ApiVersions Response (Version: 0) => error_code [api_keys]
 *   api_keys => api_key:int16 min_version:int16 max_version:int16
 *   (a broker that does not know the version asked answers in v0 form too, KIP-511)
 *
 * Metadata Request (Version: 1–3) => [topics]
 * Metadata Request (Version: 4–5) => [topics] allow_auto_topic_creation:boolean
 *   topics => name:string
 * Metadata Response (Version: 1–5) => throttle_time_ms(v3+) [brokers] cluster_id(v2+) controller_id [topics]
 *   brokers => node_id:int32 host:string port:int32 rack:nullable_string
 *   cluster_id => nullable_string
 *   topics => error_code:int16 name:string is_internal:boolean [partitions]
 *     partitions => error_code:int16 partition_index:int32 leader_id:int32 [replica_nodes:int32] [isr_nodes:int32]
 *                   [offline_replicas:int32](v5+)
 *
 * Produce Request (Version: 3–7) => transactional_id:nullable_string acks:int16 timeout_ms:int32 [topic_data]
 *   topic_data => name:string [partition_data]
 *     partition_data => index:int32 records:bytes         (records: exactly one record batch v2, records.ts)
 * Produce Response (Version: 3–7) => [responses] throttle_time_ms:int32
 *   responses => name:string [partition_responses]
 *     partition_responses => index:int32 error_code:int16 base_offset:int64 log_append_time_ms:int64
 *                            log_start_offset:int64(v5+)
 *   (acks=0: the broker sends no response at all)
 *
 * With credentials, right after ApiVersions (PLAIN: one SaslAuthenticate, src/kafka/sasl.ts has the token;
 * SCRAM-SHA-256: two, RFC 5802's messages, src/core/scram.ts):
 * SaslHandshake Request (Version: 1) => mechanism:string
 * SaslHandshake Response (Version: 1) => error_code:int16 [mechanisms:string]
 * SaslAuthenticate Request (Version: 0–1) => auth_bytes:bytes
 * SaslAuthenticate Response (Version: 0–1) => error_code:int16 error_message:nullable_string auth_bytes:bytes
 *                                             session_lifetime_ms:int64(v1+)
 */
import { API, Writer, type Reader } from '../kafka/index.ts';

export const API_PRODUCE = API.Produce;
export const API_METADATA = API.Metadata;
export const API_VERSIONS = API.ApiVersions;
export const API_SASL_HANDSHAKE = API.SaslHandshake;
export const API_SASL_AUTHENTICATE = API.SaslAuthenticate;

/** The versions this client can encode, per API: the highest one both sides support is used. */
export const CLIENT_VERSIONS: Record<number, [number, number]> = {
  [API_PRODUCE]: [3, 7], [API_METADATA]: [1, 5], [API_VERSIONS]: [0, 0], [API_SASL_HANDSHAKE]: [1, 1], [API_SASL_AUTHENTICATE]: [0, 1],
};

/** One framed request: the size, the v1 header and the body parts, ready for a vectored write. */
export function frameRequest(api: number, version: number, correlationId: number, clientId: string, body: Buffer[]): Buffer[] {
  const idLen = Buffer.byteLength(clientId);
  const head = Buffer.allocUnsafe(14 + idLen);
  let size = 10 + idLen;
  for (const b of body) size += b.length;
  head.writeInt32BE(size, 0);
  head.writeInt16BE(api, 4);
  head.writeInt16BE(version, 6);
  head.writeInt32BE(correlationId, 8);
  head.writeInt16BE(idLen, 12);
  head.write(clientId, 14);
  return [head, ...body];
}

export function decodeApiVersions(r: Reader): { error: number; versions: Map<number, [number, number]> } {
  const error = r.int16();
  const versions = new Map<number, [number, number]>();
  r.array((x) => versions.set(x.int16(), [x.int16(), x.int16()]));
  return { error, versions };
}

/** The highest version of `api` both this client and the broker support, or -1. */
export function pickVersion(api: number, broker: Map<number, [number, number]>): number {
  const b = broker.get(api);
  const c = CLIENT_VERSIONS[api];
  if (!b || !c) return -1;
  const v = Math.min(b[1], c[1]);
  return v >= Math.max(b[0], c[0]) ? v : -1;
}

export function encodeMetadata(version: number, topics: string[], allowAutoCreate: boolean): Buffer[] {
  const parts: Buffer[] = [];
  const n = Buffer.allocUnsafe(4);
  n.writeInt32BE(topics.length, 0);
  parts.push(n);
  for (const t of topics) {
    const len = Buffer.byteLength(t);
    const b = Buffer.allocUnsafe(2 + len);
    b.writeInt16BE(len, 0);
    b.write(t, 2);
    parts.push(b);
  }
  if (version >= 4) parts.push(Buffer.from([allowAutoCreate ? 1 : 0]));
  return parts;
}

export interface MetadataBroker { nodeId: number; host: string; port: number }
export interface MetadataPartition { partition: number; error: number; leader: number }
export interface MetadataTopic { name: string; error: number; partitions: MetadataPartition[] }

export function decodeMetadata(version: number, r: Reader): { brokers: MetadataBroker[]; topics: MetadataTopic[] } {
  if (version >= 3) r.int32();
  const brokers = r.array((x) => {
    const b = { nodeId: x.int32(), host: x.string(), port: x.int32() };
    x.nullableString();
    return b;
  }) ?? [];
  if (version >= 2) r.nullableString();
  r.int32();
  const topics = r.array((x) => {
    const error = x.int16();
    const name = x.string();
    x.bool();
    const partitions = x.array((y) => {
      const p = { error: y.int16(), partition: y.int32(), leader: y.int32() };
      y.array((z) => z.int32());
      y.array((z) => z.int32());
      if (version >= 5) y.array((z) => z.int32());
      return p;
    }) ?? [];
    return { name, error, partitions };
  }) ?? [];
  return { brokers, topics };
}

/**
 * The body of a Produce request for one topic. `segments` are `index:int32 records:bytes` already laid
 * out by records.ts (the batch bytes are not copied: the parts go to one vectored socket write).
 */
export function encodeProduce(acks: number, timeoutMs: number, topic: string, segments: Buffer[]): Buffer[] {
  const len = Buffer.byteLength(topic);
  const head = Buffer.allocUnsafe(2 + 2 + 4 + 4 + 2 + len + 4);
  let o = head.writeInt16BE(-1, 0);
  o = head.writeInt16BE(acks, o);
  o = head.writeInt32BE(timeoutMs, o);
  o = head.writeInt32BE(1, o);
  o = head.writeInt16BE(len, o);
  o += head.write(topic, o);
  head.writeInt32BE(segments.length, o);
  return [head, ...segments];
}

export interface ProducePartitionResult { topic: string; partition: number; error: number; baseOffset: bigint }

export function decodeProduce(version: number, r: Reader): ProducePartitionResult[] {
  const out: ProducePartitionResult[] = [];
  r.array((x) => {
    const topic = x.string();
    x.array((y) => {
      const partition = y.int32();
      const error = y.int16();
      const baseOffset = y.int64();
      y.int64();
      if (version >= 5) y.int64();
      out.push({ topic, partition, error, baseOffset });
    });
  });
  return out;
}

export function encodeSaslHandshake(mechanism: string): Buffer[] {
  return [new Writer().string(mechanism).toBuffer()];
}

export function decodeSaslHandshake(r: Reader): { error: number; mechanisms: string[] } {
  const error = r.int16();
  return { error, mechanisms: r.array((x) => x.string()) ?? [] };
}

export function encodeSaslAuthenticate(token: Buffer): Buffer[] {
  return [new Writer().bytes(token).toBuffer()];
}

export function decodeSaslAuthenticate(version: number, r: Reader): { error: number; message: string | null; token: Buffer } {
  const error = r.int16();
  const message = r.nullableString();
  const token = Buffer.from(r.bytes() ?? Buffer.alloc(0));
  if (version >= 1) r.int64();
  return { error, message, token };
}
