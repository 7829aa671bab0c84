/**
 * Workflows (the Oozie role): the daily and monthly jobs as workflow files (`workflows/*.json`), run by
 * a cron scheduler, with a history of each run and its steps.
 */
export { startScheduler, yesterday } from './scheduler.ts';
export type { Scheduler } from './scheduler.ts';
export { runWorkflow, readHistory, historyFile } from './runner.ts';
export type { RunRecord, StepRecord } from './runner.ts';
export { loadWorkflows, parseWorkflow, SHIPPED_WORKFLOWS } from './workflow.ts';
export type { Workflow, Step } from './workflow.ts';
