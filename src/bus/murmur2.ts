/**
 * Kafka's default partitioner for keyed records (the Java client's): murmur2 of the key bytes with
 * seed 0x9747b28c, made positive by masking the sign bit, modulo the partition count. A car lands on
 * the same partition whichever Kafka-protocol broker it goes to.
 */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const len = data.length;
  let h = (0x9747b28c ^ len) | 0;
  const n4 = len & ~3;
  for (let i = 0; i < n4; i += 4) {
    let k = (data[i] & 0xff) | ((data[i + 1] & 0xff) << 8) | ((data[i + 2] & 0xff) << 16) | ((data[i + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = len & 3;
  if (rest === 3) h ^= (data[n4 + 2] & 0xff) << 16;
  if (rest >= 2) h ^= (data[n4 + 1] & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[n4] & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function murmur2Partition(key: Buffer | string, partitions: number): number {
  return (murmur2(typeof key === 'string' ? Buffer.from(key) : key) & 0x7fffffff) % partitions;
}
