export { startTopology, alertsOf, DEAD_LETTER_TOPIC, STREAM_STATE_TABLE } from './topology.ts';
export type { Topology, TopologyOptions } from './topology.ts';
