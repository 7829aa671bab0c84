/**
 * The root configuration: one file (`smartcar.config.json`, or `--config FILE`) with defaults for
 * everything; environment variables override the file; CLI flags override both.
 *
 *   SMARTCAR_DATA_DIR   data directory            (default ./smartcar-data)
 *   SMARTCAR_KAFKA      host:port,… of an external Kafka cluster (default: the embedded broker)
 *   SMARTCAR_REDIS      redis://… for the hot store (default: embedded)
 *   SMARTCAR_POSTGRES   postgres://… for the table store (default: embedded LMDB)
 *
 * Each role validates its own section with its own schema; this file only knows the shared keys.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { UserError } from './errors.ts';

export const rootConfigSchema = z
  .object({
    dataDir: z.string().default('./smartcar-data'),
    kafka: z.string().optional().describe('bootstrap servers of an external Kafka cluster'),
    redis: z.string().optional().describe('redis:// URL of the hot store'),
    postgres: z.string().optional().describe('postgres:// URL of the table store'),
    broker: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(9092) }).prefault({}),
    console: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) }).prefault({}),
  })
  .loose();

export type RootConfig = z.infer<typeof rootConfigSchema>;

/** Formats zod issues as `key.path: message` lines, naming the file. */
export function describeIssues(source: string, error: z.ZodError): string {
  return error.issues.map((i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
}

export function loadRootConfig(file?: string, env: NodeJS.ProcessEnv = process.env): RootConfig {
  const candidate = file ?? (fs.existsSync('smartcar.config.json') ? 'smartcar.config.json' : undefined);
  let raw: Record<string, unknown> = {};
  if (candidate) {
    let text: string;
    try {
      text = fs.readFileSync(candidate, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read config ${candidate}: ${(err as Error).message}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new UserError(`config ${candidate} is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (env.SMARTCAR_DATA_DIR) raw.dataDir = env.SMARTCAR_DATA_DIR;
  if (env.SMARTCAR_KAFKA) raw.kafka = env.SMARTCAR_KAFKA;
  if (env.SMARTCAR_REDIS) raw.redis = env.SMARTCAR_REDIS;
  if (env.SMARTCAR_POSTGRES) raw.postgres = env.SMARTCAR_POSTGRES;
  const parsed = rootConfigSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssues(candidate ?? 'environment', parsed.error));
  return parsed.data;
}

/** CLI flags every command may pass; a flag given overrides the file and the environment. */
export interface ConfigFlags {
  config?: string;
  data?: string;
  kafka?: string;
  redis?: string;
  postgres?: string;
}

/** The root config (file < environment) with the command's flags applied on top. */
export function loadRootConfigWithFlags(o: ConfigFlags): RootConfig {
  const cfg = loadRootConfig(o.config);
  if (o.data) cfg.dataDir = o.data;
  if (o.kafka) cfg.kafka = o.kafka;
  if (o.redis) cfg.redis = o.redis;
  if (o.postgres) cfg.postgres = o.postgres;
  return cfg;
}
