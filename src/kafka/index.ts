/**
 * The Kafka wire format, in one place: the primitives every request and response is made of
 * (wire.ts), the API keys (apis.ts), the error codes (errors.ts), the record batch v2 and its CRC-32C
 * (batch.ts, crc32c.ts), the topic-name rule (topic.ts) and the SASL/PLAIN token (sasl.ts).
 *
 * Both ends build on it: the embedded broker (src/broker, one handler per API in broker/api/) and the
 * bus's producer (src/bus/protocol.ts). Neither imports the other; other modules import only this file.
 */
export { Reader, Writer, WireError } from './wire.ts';
export { API, apiName } from './apis.ts';
export { E, errorName, RETRIABLE } from './errors.ts';
export { BATCH_HEADER, BatchError, scanBatches, writeBatchHeader, type BatchInfo } from './batch.ts';
export { crc32c } from './crc32c.ts';
export { isValidTopicName, TOPIC_NAME_RULE } from './topic.ts';
export { decodePlain, encodePlain, kafkajsSasl, saslFromEnv, SASL_MECHANISMS, type SaslCredentials, type SaslMechanism } from './sasl.ts';
