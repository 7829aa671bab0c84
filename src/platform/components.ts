/**
 * The components of `smartcar up`, in start order (each after what it needs; stop is the reverse):
 *
 *   broker     embedded Kafka-protocol broker (skipped with --kafka)
 *   stream     bus → table store, bus → CEP → hot store        needs the broker
 *   agent      spool → lake, driving log → SmartCar-Topic      needs the broker
 *   scheduler  the five daily workflows on their cron           needs the table store (stream creates it)
 *   sim        driving log + status days (unless --no-sim)     needs the agent and the stream
 *   sql-server PostgreSQL-wire SQL over the catalog (psql, R, JDBC) on --sql-port
 *   predict    the incident model over HTTP (127.0.0.1:9001)   only when a trained model exists
 *
 * Stopping in reverse order means: the simulator stops writing, the agent's sources stop and its
 * channels drain to the broker, the stream commits its offsets, and the broker goes last.
 */
import fs from 'node:fs';
import path from 'node:path';
import { shippedPath, type DataPaths } from '../core/index.ts';
import type { ComponentSpec } from './supervisor.ts';

/** The agent definition shipped with the package (the seed's two flows). */
export const SHIPPED_AGENT_FILE = shippedPath('agents', 'smartcar-agent.properties');
export const AGENT_NAME = 'SmartCar_Agent';

export interface PlatformOptions {
  paths: DataPaths;
  /** External Kafka bootstrap servers; the embedded broker when absent. */
  kafka?: string;
  redis?: string;
  postgres?: string;
  /** Port of the embedded broker (0 = free port, kept across its restarts). */
  brokerPort: number;
  /**
   * Address the embedded broker binds (default 127.0.0.1). Anything else needs SMARTCAR_BROKER_PASSWORD
   * (up.ts checks): the broker then demands SASL, and every child presents the same credentials, which
   * it inherits with the supervisor's environment (the bus and the console read them, src/kafka/sasl.ts).
   */
  brokerHost?: string;
  /** True when the broker demands SASL (for the banner). */
  brokerSasl?: boolean;
  sim?: { cars: number; speedup: number; seed?: number; date?: string; garbage?: number; statusCars?: number };
  agentFile?: string;
  /** Port of the SQL server (PostgreSQL wire protocol; 0 = free port). */
  sqlPort: number;
  /** Port of the prediction service (default 9001, as the seed's Flask app). */
  predictPort?: number;
}

export interface PlatformComponents {
  specs: ComponentSpec[];
  /** The bootstrap servers the children use (known once the broker is ready). */
  brokers(): string;
}

export function platformComponents(o: PlatformOptions): PlatformComponents {
  const data = o.paths.root;
  let brokerAddress = o.kafka;
  const brokers = () => {
    if (!brokerAddress) throw new Error('the broker address is not known yet');
    return brokerAddress;
  };
  const stores = [...(o.redis ? ['--redis', o.redis] : []), ...(o.postgres ? ['--postgres', o.postgres] : [])];
  const env: NodeJS.ProcessEnv = {
    ...(o.redis ? { SMARTCAR_REDIS: o.redis } : {}),
    ...(o.postgres ? { SMARTCAR_POSTGRES: o.postgres } : {}),
  };
  const specs: ComponentSpec[] = [];
  if (!o.kafka) {
    specs.push({
      name: 'broker',
      // A restarted broker keeps its first address, which the other children were given.
      args: () => ['broker', '--host', o.brokerHost ?? '127.0.0.1', '--port', String(brokerAddress ? brokerAddress.split(':').pop() : o.brokerPort), '--data', o.paths.broker],
      ready: { listening: /^listening (\S+:\d+)\s*$/ },
      onReady: (c) => {
        brokerAddress ??= c.captures.listening;
      },
      describe: (c) => `${c.captures.listening ?? '?'}  Kafka protocol, embedded${o.brokerSasl ? ', SASL PLAIN/SCRAM-SHA-256 (SMARTCAR_BROKER_USER / _PASSWORD)' : ''}, log in ${o.paths.broker}`,
      stopTimeoutMs: 15_000,
      env: { SMARTCAR_PORT_FLAG: '--broker-port' },
    });
  }
  const afterBroker = o.kafka ? [] : ['broker'];
  specs.push({
    name: 'stream',
    args: () => ['stream', '--data', data, '--kafka', brokers(), ...stores],
    dependsOn: afterBroker,
    describe: () => `bus → table store + CEP rules (${path.join(data, 'rules')}) → hot store`,
    stopTimeoutMs: 30_000,
    env,
  });
  const agentFile = o.agentFile ?? SHIPPED_AGENT_FILE;
  specs.push({
    name: 'agent',
    args: () => ['agent', '-n', AGENT_NAME, '-f', agentFile, '--data', data, '--kafka', brokers()],
    dependsOn: afterBroker,
    describe: () => `${path.relative(data, o.paths.spool)} → lake/collect, ${path.relative(data, o.paths.driverLog)} → SmartCar-Topic`,
    stopTimeoutMs: 30_000,
    env,
  });
  specs.push({
    name: 'scheduler',
    args: () => ['workflow', 'scheduler', '--data', data],
    dependsOn: ['stream'],
    describe: () => `five daily workflows → ${path.relative(data, o.paths.warehouse)}`,
    env,
  });
  specs.push({
    name: 'sql-server',
    args: () => ['sql-server', '--data', data, '--port', String(o.sqlPort)],
    ready: { listening: /^listening (\S+:\d+)\s*$/, credentials: /^credentials (.+)$/ },
    describe: (c) => `psql "postgres://smartcar@${c.captures.listening ?? '?'}/smartcar"  (password: ${c.captures.credentials ?? '?'})`,
    env: { ...env, SMARTCAR_PORT_FLAG: '--sql-port' },
  });
  if (o.sim) {
    const s = o.sim;
    specs.push({
      name: 'sim',
      args: () => [
        'sim', '--data', data, '--cars', String(s.cars), '--speedup', String(s.speedup),
        ...(s.seed !== undefined ? ['--seed', String(s.seed)] : []),
        ...(s.date ? ['--date', s.date] : []),
        ...(s.garbage ? ['--garbage', String(s.garbage)] : []),
        ...(s.statusCars !== undefined ? ['--status-cars', String(s.statusCars)] : []),
      ],
      dependsOn: ['agent', 'stream'],
      describe: () => `${s.cars} cars ×${s.speedup} → ${path.relative(data, o.paths.driverLog)}, status days → ${path.relative(data, o.paths.spool)}`,
      stopTimeoutMs: 10_000,
    });
  }
  // The prediction service, once `smartcar ml dnn train` has written a model; it picks up newer ones itself.
  const models = path.join(data, 'models', 'incident-dnn');
  if (fs.existsSync(models) && fs.readdirSync(models).some((f) => /^v\d+\.json$/.test(f))) {
    specs.push({
      name: 'predict',
      args: () => ['serve', 'predict', '--port', String(o.predictPort ?? 9001), '--model', models],
      ready: { listening: /^listening (\S+)\s*$/ },
      describe: (c) => `${c.captures.listening ?? `http://127.0.0.1:${o.predictPort ?? 9001}`}/smartcar/predict, models in ${path.relative(data, models)}`,
      env: { SMARTCAR_PORT_FLAG: '--predict-port' },
    });
  }
  return { specs, brokers };
}

/** True when the shipped agent file exists (the collection agent's issue ships it). */
export function agentFileExists(file = SHIPPED_AGENT_FILE): boolean {
  return fs.existsSync(file);
}
