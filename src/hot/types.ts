/**
 * The hot-store port (the Redis role): sets with expiry, read by outside applications.
 * Semantics are Redis's: SADD returns how many members were new; EXPIRE resets the TTL;
 * TTL is -2 for a missing key, -1 for a key without expiry.
 */
export interface HotStore {
  sadd(key: string, ...members: string[]): Promise<number>;
  expire(key: string, seconds: number): Promise<void>;
  smembers(key: string): Promise<string[]>;
  ttl(key: string): Promise<number>;
  del(key: string): Promise<void>;
  close(): Promise<void>;
}

/** What the CEP rule reports for a car whose average speed over a window exceeds the limit. */
export interface OverspeedAlert {
  carNumber: string;
  /** `yyyyMMddHHmmss` of the event the alert carries (the group's last event, as Esper does). */
  date: string;
  avgSpeed: number;
  windowStart: number;
  windowEnd: number;
}
