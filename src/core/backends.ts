/**
 * Which engine backs each role, from the root config (file < environment < flags):
 * the embedded defaults under the data directory, or external Kafka / Redis / PostgreSQL. Shared
 * configuration: every role that runs reads it here; the roles open their own stores from the choice.
 */
import type { RootConfig } from './config.ts';
import { redactUrls } from './fail.ts';
import { dataPaths } from './paths.ts';

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
    table: b.table.kind === 'lmdb' ? `embedded LMDB at ${b.table.path}` : `PostgreSQL ${redactUrls(b.table.url)}`,
    hot: b.hot.kind === 'embedded' ? `embedded at ${b.hot.path}` : `Redis ${redactUrls(b.hot.url)}`,
    bus: b.brokerEmbedded ? `embedded broker at ${b.brokers[0]}` : `Kafka ${b.brokers.join(',')}`,
  };
}
