/**
 * The CEP port (the Esper role). Statements in an EPL subset are deployed from text; events are
 * sent with their event time; output rows are delivered when windows close.
 */
export type CepEvent = Record<string, unknown>;

export interface CepOutput {
  /** `@Name` of the statement, or `stmt-N`. */
  statement: string;
  /** One row per group satisfying `having`: select-list aliases → values. */
  rows: CepEvent[];
  /** Event-time bounds of the window that produced the rows (epoch ms), when it is a batch window. */
  windowStart?: number;
  windowEnd?: number;
}
