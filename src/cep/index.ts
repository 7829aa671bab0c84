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
