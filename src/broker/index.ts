/**
 * The embedded broker: one node speaking the Kafka wire protocol (`smartcar broker`, and the first
 * component of `smartcar up`). Any Kafka client talks to it; the wire format itself is src/kafka's.
 */
export { startBroker, VERSIONS } from './server.ts';
export type { Broker, BrokerOptions } from './server.ts';
export { brokerUsers, type BrokerUsers } from './credentials.ts';
