/**
 * Complex event processing (the Esper role): a small EPL engine — statements over event-time windows,
 * grouped aggregates, HAVING — and the rule files (`rules/*.epl`) it loads and hot-reloads.
 */
export type * from './types.ts';
export { CepEngine, DRIVING_RECORD_TYPE } from './engine.ts';
export type { CepEngineOptions } from './engine.ts';
export type { EventTypeDef } from './statement.ts';
export { EplError } from './lexer.ts';
export { parseEpl } from './parser.ts';
export { loadRules, watchRules, ruleFiles } from './rules.ts';
export type { RuleEvent } from './rules.ts';
import type { DrivingRecord } from '../core/index.ts';
import type { CepEvent } from './types.ts';

/** A parsed driving record is a valid `DrivingRecord` event as it is. */
export function drivingRecordEvent(r: DrivingRecord): CepEvent {
  return r as unknown as CepEvent;
}
