/** Reserved topic names and prefixes (broker-internals.md §8.4, RocketMQ TopicValidator/MixAll). */
export const AUTO_CREATE_TOPIC_KEY = 'TBW102';
export const SELF_TEST_TOPIC = 'SELF_TEST_TOPIC';
export const BENCHMARK_TOPIC = 'BenchmarkTest';
export const OFFSET_MOVED_EVENT = 'OFFSET_MOVED_EVENT';
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
export const TRANS_HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
export const TRANS_OP_HALF_TOPIC = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
export const TRANS_CHECK_MAX_TIME_TOPIC = 'TRANS_CHECK_MAX_TIME_TOPIC';
export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';
export const SYSTEM_TOPIC_PREFIX = 'rmq_sys_';
export const REPLY_TOPIC_POSTFIX = 'REPLY_TOPIC';

export const retryTopicOf = (group: string): string => RETRY_GROUP_TOPIC_PREFIX + group;
export const dlqTopicOf = (group: string): string => DLQ_GROUP_TOPIC_PREFIX + group;
export const isRetryTopic = (topic: string): boolean => topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);

const VALID_TOPIC = /^[%|a-zA-Z0-9_-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 127;

/** Why `topic` is not a valid topic name, or undefined if it is (`TopicValidator.validateTopic`). */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.trim() === '') return 'the specified topic is blank';
  if (!VALID_TOPIC.test(topic)) {
    return `the specified topic[${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  }
  if (topic.length > MAX_TOPIC_NAME_LENGTH) {
    return `the specified topic is longer than topic max length ${MAX_TOPIC_NAME_LENGTH}`;
  }
  return undefined;
}
