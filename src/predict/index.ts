/** The prediction service (the original's Flask app): the incident model over HTTP. */
export { startPredictService } from './service.ts';
export type { PredictService, PredictServiceOptions } from './service.ts';
