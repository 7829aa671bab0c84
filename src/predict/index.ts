/** The prediction service's public face. */
export { startPredictService } from './service.ts';
export type { PredictService, PredictServiceOptions } from './service.ts';
