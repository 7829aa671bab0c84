/**
 * Which engine backs each role, from the root config (file < environment < flags):
 * the embedded defaults under the data directory, or external Kafka / Redis / PostgreSQL.
 */
import type { RootConfig } from '../core/config.ts';
import { dataPaths } from '../core/paths.ts';
import type { TableStore } from '../table/index.ts';
import type { HotStore } from '../hot/index.ts';
import type { Bus } from '../bus/index.ts';

export interface BackendChoice {
  table: { kind: 'lmdb'; path: string } | { kind: 'postgres'; url: string; schema?: string };
  hot: { kind: 'embedded'; path: string } | { kind: 'redis'; url: string };
  /** Bootstrap servers: the external cluster, or the embedded broker's address. */
  brokers: string[];
  brokerEmbedded: boolean;
}

export function chooseBackends(cfg: RootConfig): BackendChoice {
  const p = dataPaths(cfg.dataDir);
  return {
    table: cfg.postgres ? { kind: 'postgres', url: cfg.postgres, schema: process.env.SMARTCAR_POSTGRES_SCHEMA } : { kind: 'lmdb', path: p.table },
    hot: cfg.redis ? { kind: 'redis', url: cfg.redis } : { kind: 'embedded', path: p.hot },
    brokers: cfg.kafka ? cfg.kafka.split(',').map((s) => s.trim()).filter(Boolean) : [`${cfg.broker.host}:${cfg.broker.port}`],
    brokerEmbedded: !cfg.kafka,
  };
}

export function describeBackend(b: BackendChoice): Record<string, string> {
  return {
    table: b.table.kind === 'lmdb' ? `embedded LMDB at ${b.table.path}` : `PostgreSQL ${redact(b.table.url)}`,
    hot: b.hot.kind === 'embedded' ? `embedded at ${b.hot.path}` : `Redis ${redact(b.hot.url)}`,
    bus: b.brokerEmbedded ? `embedded broker at ${b.brokers[0]}` : `Kafka ${b.brokers.join(',')}`,
  };
}

/** Hides a URL's password in banners and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export async function openStores(b: BackendChoice): Promise<{ table: TableStore; hot: HotStore }> {
  const { openTableStore } = await import('../table/index.ts');
  const { openHotStore } = await import('../hot/index.ts');
  const table = await openTableStore(b.table);
  const hot = await openHotStore(b.hot);
  return { table, hot };
}

export async function openBus(b: BackendChoice, clientId: string): Promise<Bus> {
  const { createBus } = await import('../bus/index.ts');
  return createBus({ brokers: b.brokers, clientId });
}
