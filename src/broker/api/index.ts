/**
 * The APIs the broker serves, one handler per file, each opened by its request and response grammar.
 * `HANDLERS` maps an API key to its handler; `VERSIONS` is the table ApiVersions advertises.
 */
import { apiVersions } from './api-versions.ts';
import { createTopics } from './create-topics.ts';
import { describeGroups } from './describe-groups.ts';
import { fetch } from './fetch.ts';
import { findCoordinator } from './find-coordinator.ts';
import { heartbeat } from './heartbeat.ts';
import { joinGroup } from './join-group.ts';
import { leaveGroup } from './leave-group.ts';
import { listGroups } from './list-groups.ts';
import { listOffsets } from './list-offsets.ts';
import { metadata } from './metadata.ts';
import { offsetCommit } from './offset-commit.ts';
import { offsetFetch } from './offset-fetch.ts';
import { produce } from './produce.ts';
import { saslAuthenticate } from './sasl-authenticate.ts';
import { saslHandshake } from './sasl-handshake.ts';
import { syncGroup } from './sync-group.ts';
import type { ApiHandler } from './types.ts';

export { encodeApiVersions } from './api-versions.ts';
export type { ApiHandler, BrokerState, Connection, Request } from './types.ts';

const served: ApiHandler[] = [
  produce, fetch, listOffsets, metadata, offsetCommit, offsetFetch, findCoordinator, joinGroup, heartbeat,
  leaveGroup, syncGroup, describeGroups, listGroups, saslHandshake, createTopics, saslAuthenticate,
];

const table = new Map<number, readonly [number, number]>();
const all = [...served, apiVersions(table)].sort((a, b) => a.key - b.key);
for (const h of all) table.set(h.key, h.versions);

/** API key → [min, max] version served, in key order (ApiVersions lists them so). */
export const VERSIONS: ReadonlyMap<number, readonly [number, number]> = table;

export const HANDLERS: ReadonlyMap<number, ApiHandler> = new Map(all.map((h) => [h.key, h]));
