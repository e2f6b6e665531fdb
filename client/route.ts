/**
 * Turning a topic route (remoting.md §5.2) into the queues a producer may write and a consumer
 * may read, as the Java client's `topicRouteData2TopicPublishInfo/SubscribeInfo` do.
 */
import { Perm, type TopicRouteData } from '../common/protocol/bodies';
import { compareQueues, type MessageQueue } from './message-queue';

export const MASTER_ID = 0;

/** Writable queues: per QueueData (sorted by broker name) with WRITE perm and a live master. */
export function publishQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const queues: MessageQueue[] = [];
  if (route.orderTopicConf) {
    // "brokerA:4;brokerB:4": an ordered topic lists its writable queue counts explicitly.
    for (const item of route.orderTopicConf.split(';')) {
      const [brokerName, count] = item.split(':');
      for (let queueId = 0; queueId < Number(count); queueId++) {
        queues.push({ topic, brokerName, queueId });
      }
    }
    return queues;
  }
  const sorted = [...route.queueDatas].sort((a, b) =>
    a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0,
  );
  for (const qd of sorted) {
    if ((qd.perm & Perm.WRITE) === 0) continue;
    const broker = route.brokerDatas.find((b) => b.brokerName === qd.brokerName);
    if (!broker?.brokerAddrs[String(MASTER_ID)]) continue;
    for (let queueId = 0; queueId < qd.writeQueueNums; queueId++) {
      queues.push({ topic, brokerName: qd.brokerName, queueId });
    }
  }
  return queues;
}

/** Readable queues: per QueueData with READ perm, sorted as the rebalance needs them. */
export function subscribeQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const queues: MessageQueue[] = [];
  for (const qd of route.queueDatas) {
    if ((qd.perm & Perm.READ) === 0) continue;
    for (let queueId = 0; queueId < qd.readQueueNums; queueId++) {
      queues.push({ topic, brokerName: qd.brokerName, queueId });
    }
  }
  return queues.sort(compareQueues);
}

/**
 * The route of the auto-create template topic (TBW102) applied to `topic`: the same brokers
 * with at most `defaultQueueNums` queues each, as the Java producer does for a topic that the
 * name server does not know yet.
 */
export function capQueueNums(route: TopicRouteData, defaultQueueNums: number): TopicRouteData {
  return {
    ...route,
    queueDatas: route.queueDatas.map((qd) => ({
      ...qd,
      readQueueNums: Math.min(qd.readQueueNums, defaultQueueNums),
      writeQueueNums: Math.min(qd.writeQueueNums, defaultQueueNums),
    })),
  };
}
