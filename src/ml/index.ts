/** The ml role's public face. */
// Models (issue 17): the incident network for the prediction service, the regression.
export * from './dnn/index.ts';
export { fitOls, predictOls } from './regress/ols.ts';
export type { LinearModel, Prediction } from './regress/ols.ts';
