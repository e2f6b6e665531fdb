/**
 * The next queue offset of every (topic, queue id) the put path assigns (RocketMQ's
 * `topicQueueTable`). Keyed by topic, then indexed by queue id, so a put builds no key string.
 */
export class QueueOffsetTable {
  private readonly topics = new Map<string, number[]>();

  /** The next offset of the queue (0 for one never written). */
  get(topic: string, queueId: number): number {
    return this.topics.get(topic)?.[queueId] ?? 0;
  }

  set(topic: string, queueId: number, next: number): void {
    let queues = this.topics.get(topic);
    if (queues === undefined) {
      queues = [];
      this.topics.set(topic, queues);
    }
    // Fill the gap below a new high queue id, so the array stays packed (fast element access).
    for (let q = queues.length; q < queueId; q++) queues[q] = 0;
    queues[queueId] = next;
  }

  deleteTopic(topic: string): void {
    this.topics.delete(topic);
  }

  clear(): void {
    this.topics.clear();
  }
}
