/**
 * Kafka's rule for topic names: 1 to 249 characters of ASCII letters, digits, '.', '_' and '-'
 * (Apache Kafka's `Topic.validate`; 249 leaves room for a partition suffix in a 255-byte file name).
 */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

export const isValidTopicName = (name: string): boolean => TOPIC_NAME.test(name);

/** The rule in words, for error messages. */
export const TOPIC_NAME_RULE = 'topic names are 1–249 of [A-Za-z0-9._-]';
