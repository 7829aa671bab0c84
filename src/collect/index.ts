/**
 * The collection agent (the Flume role): sources → interceptors → channels → sinks, with every
 * event moving through channel transactions (types.ts). Importing this module registers the built-in
 * components; custom ones register with `registerComponent` (registry.ts).
 */
import './interceptor/index.ts';
import './source/index.ts';
import './channel/index.ts';
import './sink/index.ts';
import { FileDeadLetters } from './deadletter.ts';

export type * from './types.ts';
export { ChannelFullError } from './types.ts';
export { registerComponent, findComponent, componentTypes, type ComponentContext } from './registry.ts';
export { readAgentFile, fromProperties, fromJson, AgentConfigError, type AgentDefinition } from './config.ts';
export { Agent, type AgentOptions, type ComponentStatus } from './agent.ts';
export { FileDeadLetters } from './deadletter.ts';

export function createDeadLetters(dataDir: string, agent: string): FileDeadLetters {
  return new FileDeadLetters(dataDir, agent);
}
