import type { BrokerContext } from '../broker-context';
import { DLQ_GROUP_TOPIC_PREFIX } from '../metadata/system-topics';

export interface QueueProgress {
  queueId: number;
  /** ConsumeQueue max offset: the next offset to be written. */
  brokerOffset: number;
  /** Committed offset; 0 when the group never committed this queue (as GET_CONSUME_STATS). */
  consumerOffset: number;
}

export interface GroupTopicProgress {
  group: string;
  topic: string;
  /** Online members of the group on this broker (0 when only its offsets are known). */
  onlineConsumers: number;
  messageModel: string;
  queues: QueueProgress[];
  /** Σ (brokerOffset − consumerOffset): rocketmq-exporter's `computeTotalDiff`. */
  diff: number;
}

/**
 * Every group × topic this broker knows a consumer for — from committed offsets and from live
 * subscriptions, as QUERY_TOPIC_CONSUME_BY_WHO finds them — with GET_CONSUME_STATS's per-queue
 * figures. Read at scrape time only.
 */
export function* consumeProgress(ctx: BrokerContext): Generator<GroupTopicProgress> {
  const pairs = new Map<string, Set<string>>();
  const add = (group: string, topic: string): void => {
    let topics = pairs.get(group);
    if (!topics) pairs.set(group, (topics = new Set()));
    topics.add(topic);
  };
  for (const { group, topic } of ctx.offsets.entries()) add(group, topic);
  for (const group of ctx.consumers.groupNames()) {
    for (const topic of ctx.consumers.get(group)?.subscriptions.keys() ?? []) add(group, topic);
  }
  for (const [group, topics] of pairs) {
    const live = ctx.consumers.get(group);
    for (const topic of topics) {
      const config = ctx.topics.get(topic);
      // Dead letters wait for a human, not a consumer: the exporter leaves %DLQ% topics out.
      if (!config || topic.startsWith(DLQ_GROUP_TOPIC_PREFIX)) continue;
      const queues: QueueProgress[] = [];
      let diff = 0;
      for (let queueId = 0; queueId < config.readQueueNums; queueId++) {
        const brokerOffset = ctx.store.getMaxOffsetInQueue(topic, queueId);
        const consumerOffset = Math.max(0, ctx.offsets.query(group, topic, queueId));
        queues.push({ queueId, brokerOffset, consumerOffset });
        diff += Math.max(0, brokerOffset - consumerOffset);
      }
      yield {
        group,
        topic,
        onlineConsumers: live?.channels.size ?? 0,
        messageModel: live?.messageModel ?? 'CLUSTERING',
        queues,
        diff,
      };
    }
  }
}

/**
 * rocketmq_group_get_latency_by_storetime of one group × topic: the largest age (ms) of the
 * oldest unconsumed message over its queues, 0 when caught up; a consumer offset below the
 * queue's retained range counts from the oldest message still stored, as the exporter does.
 */
export async function consumeLatencyMs(
  ctx: BrokerContext,
  progress: GroupTopicProgress,
  now = Date.now(),
): Promise<number> {
  let latency = 0;
  for (const { queueId, brokerOffset, consumerOffset } of progress.queues) {
    if (consumerOffset >= brokerOffset) continue;
    const offset = Math.max(consumerOffset, ctx.store.getMinOffsetInQueue(progress.topic, queueId));
    const stored = await ctx.store.getMessageStoreTimestamp(progress.topic, queueId, offset);
    if (stored > 0) latency = Math.max(latency, now - stored);
  }
  return latency;
}
