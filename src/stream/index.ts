/**
 * The real-time topology (the Storm role): bus → parse → table store, and bus → CEP rules → hot store,
 * with offsets committed only behind the writes.
 */
export { startTopology, alertsOf, DEAD_LETTER_TOPIC, STREAM_STATE_TABLE } from './topology.ts';
export type { Topology, TopologyOptions } from './topology.ts';
