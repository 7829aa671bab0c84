/** Helpers shared by the channel tests: events, temp dirs, a component context. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../src/core/log.ts';
import type { ComponentContext } from '../../../src/collect/registry.ts';
import type { CollectEvent } from '../../../src/collect/types.ts';

export function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `smartcar-channel-${name}-`));
}

/** Events `e<from>` … `e<to-1>`, all sharing one header object (as interceptors do within a batch). */
export function events(from: number, to: number, headers: Record<string, string> = { logType: 'test' }): CollectEvent[] {
  const out: CollectEvent[] = [];
  for (let i = from; i < to; i++) out.push({ headers, body: Buffer.from(`e${i}`) });
  return out;
}

export const bodies = (evs: CollectEvent[]) => evs.map((e) => e.body.toString());

export function context(name: string, dataDir: string): ComponentContext {
  return {
    agent: 'test-agent',
    name,
    dataDir,
    lakeRoot: path.join(dataDir, 'lake'),
    stateDir: path.join(dataDir, 'state', 'collect', 'test-agent'),
    brokers: [],
    deadLetters: { write() { throw new Error('channels never write dead letters'); } },
    log: createLogger(`channel:${name}`),
  };
}
