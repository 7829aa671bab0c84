/**
 * The collection agent's sinks, registered by config `type` (ours and Flume's class names):
 * `hdfs`/`lake` (lake.ts), `kafka` (kafka.ts), `logger` (logger.ts), `null` (null.ts).
 * Importing this module registers them.
 */
import { registerComponent } from '../registry.ts';
import { kafkaSinkFactory } from './kafka.ts';
import { lakeSinkFactory } from './lake.ts';
import { loggerSinkFactory } from './logger.ts';
import { nullSinkFactory } from './null.ts';

export { LakeSink, lakeRelative, lakeSinkFactory, lakeSinkSchema, type LakeSinkConfig, type RecoveryReport } from './lake.ts';
export { KafkaSink, kafkaSinkFactory, kafkaSinkSchema, bodyField, type KafkaSinkConfig } from './kafka.ts';
export { LoggerSink, loggerSinkFactory, loggerSinkSchema } from './logger.ts';
export { NullSink, nullSinkFactory, nullSinkSchema } from './null.ts';
export { PathTemplate, MissingTimestampError } from './escape.ts';

registerComponent(lakeSinkFactory);
registerComponent(kafkaSinkFactory);
registerComponent(loggerSinkFactory);
registerComponent(nullSinkFactory);
