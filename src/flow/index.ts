export { startScheduler, yesterday } from './scheduler.ts';
export type { Scheduler } from './scheduler.ts';
export { runWorkflow, readHistory, historyFile } from './runner.ts';
export type { RunRecord, StepRecord } from './runner.ts';
export { loadWorkflows, parseWorkflow, SHIPPED_WORKFLOWS } from './workflow.ts';
export type { Workflow, Step } from './workflow.ts';
