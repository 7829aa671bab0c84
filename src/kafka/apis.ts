/**
 * Kafka's API keys (the int16 at the start of every request header), by their protocol names.
 * Which versions of each the broker serves is the broker's business (src/broker/api/index.ts), which
 * ones the producer speaks is the bus's (src/bus/protocol.ts).
 */
export const API = {
  Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10,
  JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14, DescribeGroups: 15, ListGroups: 16,
  SaslHandshake: 17, ApiVersions: 18, CreateTopics: 19, SaslAuthenticate: 36,
} as const;

const NAMES = new Map<number, string>(Object.entries(API).map(([n, k]) => [k, n]));

/** The protocol name of an API key, or its number for one this module does not know. */
export const apiName = (key: number): string => NAMES.get(key) ?? String(key);
