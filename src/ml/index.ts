/**
 * The analysis role's public face (Mahout / Spark ML in the original): recommendation, the status
 * classifier (random forest), k-means clustering; the model-file format; the plots.
 */
export { trainForest, predictColumns, predictProba, argmax, subsetSize } from './forest/forest.ts';
export type { Forest, Tree, TrainingSet } from './forest/forest.ts';
export { forestSchema, forestDefaults } from './forest/schema.ts';
export type { ForestConfig } from './forest/schema.ts';
export { findBins, binColumn, valueCounts } from './forest/bins.ts';
export { STATUS_FEATURES, STATUS_CLASSES, labelledSql, parseCar } from './classify/features.ts';
export { loadModel, saveModel, MODEL_KIND } from './classify/model.ts';
export { readLabelled, splitRows, evaluateForest, scoreDay, defaultModelFile } from './classify/run.ts';
export type { LabelledSet } from './classify/run.ts';
export { buildPrefs, itemSimilarities, recommendAll, popularAll, logLikelihoodRatio } from './recommend/itembased.ts';
export { readPurchases, holdoutEvaluate, recommendPrefs, writeRecommendations, BUYLIST_MART } from './recommend/run.ts';
export { recommendSchema, itemBasedSchema, SIMILARITIES } from './recommend/schema.ts';
export { kmeans, silhouette, dedupe, principalComponents } from './kmeans/kmeans.ts';
export type { Points, KMeansResult } from './kmeans/kmeans.ts';
export { kmeansSchema, clusterSchema } from './kmeans/schema.ts';
export { readCarFeatures, clusterCars, DERIVED_MASTER_SQL } from './kmeans/run.ts';
export { evaluateConfusion, formatEvaluation } from './metrics.ts';
export type { Evaluation } from './metrics.ts';
export { writeModelFile, readModelFile } from './model-file.ts';
export { markdownOptions, optionDocs } from './options.ts';
export { renderSvg, writeSvg, drawFigure, listFigures, figuresDir } from './plot.ts';
export type { Figure } from './plot.ts';
export { runAnalysisTask } from './tasks.ts';
// Stage-6 models: the incident network for the prediction service, the regression.
export * from './dnn/index.ts';
export { fitOls, predictOls } from './regress/ols.ts';
export type { LinearModel, Prediction } from './regress/ols.ts';
