export { startBroker, VERSIONS } from './server.ts';
export type { Broker, BrokerOptions } from './server.ts';
export { crc32c, scanBatches } from './batch.ts';
