/**
 * The platform (the Cloudera Manager role): `smartcar up` starts and supervises every role as a child
 * process on embedded defaults, with one lock per data directory, merged /metrics and /health, the
 * driving simulator, and `smartcar status`.
 */
export { Supervisor, SMARTCAR_BIN, firstErrorLine } from './supervisor.ts';
export type { ComponentSpec, ComponentPhase, ComponentState, SupervisorOptions, SupervisorEvent } from './supervisor.ts';
export { platformComponents, agentFileExists, SHIPPED_AGENT_FILE, AGENT_NAME } from './components.ts';
export type { PlatformOptions, PlatformComponents } from './components.ts';
export { platformHealth, platformMetrics, platformRouter, servePlatform, runUp } from './up.ts';
export type { UpOptions, ComponentHealth, PlatformHealth, PlatformServer } from './up.ts';
export { acquireLock, readLock, lockFile } from './lock.ts';
export type { LockInfo, PlatformLock } from './lock.ts';
export { mergeMetrics, labelSample, httpGet, splitAddress } from './scrape.ts';
export type { MetricsSource } from './scrape.ts';
export { runSim, ensureCarMaster, carIndex, resumePoint } from './sim.ts';
export type { SimState, FleetOptions, SimOptions } from './sim.ts';
export { runStatus } from './status.ts';
export type { StatusOptions } from './status.ts';
