/** The incident network's public pieces, for the prediction service (through src/ml/index.ts). */
export { loadModel as loadIncidentModel, latestArtifact, modelDir, predictRaw, resolveModelPath, FORMAT as MODEL_FORMAT } from './artifact.ts';
export type { IncidentModel, Artifact } from './artifact.ts';
export { FEATURES as INCIDENT_MODEL_FEATURES, CLASSES as INCIDENT_CLASSES } from './incidents.ts';
