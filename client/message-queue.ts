import type { MessageQueue } from '../common/protocol/broker-bodies';

/** A queue of a topic on one broker group: the unit of sending, pulling, locking and offsets. */
export type { MessageQueue };

/** Java's `MessageQueue.compareTo`: topic, then brokerName (UTF-16 order, as JS `<`), then queueId. */
export function compareQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/** A string key for maps keyed by queue. */
export function queueKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

export function formatQueue(mq: MessageQueue): string {
  return `MessageQueue [topic=${mq.topic}, brokerName=${mq.brokerName}, queueId=${mq.queueId}]`;
}

/** A copy with exactly the three fields, in fastjson's key order. */
export function queueJson(mq: MessageQueue): MessageQueue {
  return { brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic };
}
