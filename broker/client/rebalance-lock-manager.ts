import type { MessageQueue } from '../../common/protocol/broker-bodies';

interface LockEntry {
  clientId: string;
  lastUpdateTimestamp: number;
}

const mqKey = (mq: MessageQueue): string => `${mq.topic}\u0000${mq.brokerName}\u0000${mq.queueId}`;

/**
 * Queue locks of orderly consumers (RocketMQ RebalanceLockManager, broker-internals.md §11.5):
 * a queue is granted to a client if free, held by it already (a refresh), or expired.
 */
export class RebalanceLockManager {
  private readonly groups = new Map<string, Map<string, LockEntry>>();

  constructor(private readonly lockMaxLiveTimeMs: number) {}

  /** Locks what it can of `mqs` for `clientId`; returns the queues the client now holds. */
  tryLockBatch(
    group: string,
    mqs: readonly MessageQueue[],
    clientId: string,
    now = Date.now(),
  ): MessageQueue[] {
    let locks = this.groups.get(group);
    if (!locks) {
      locks = new Map();
      this.groups.set(group, locks);
    }
    const granted: MessageQueue[] = [];
    for (const mq of mqs) {
      const key = mqKey(mq);
      const entry = locks.get(key);
      const free =
        !entry ||
        entry.clientId === clientId ||
        now - entry.lastUpdateTimestamp > this.lockMaxLiveTimeMs;
      if (!free) continue;
      locks.set(key, { clientId, lastUpdateTimestamp: now });
      granted.push(mq);
    }
    return granted;
  }

  /** Releases the queues of `mqs` that `clientId` holds. */
  unlockBatch(group: string, mqs: readonly MessageQueue[], clientId: string): void {
    const locks = this.groups.get(group);
    if (!locks) return;
    for (const mq of mqs) {
      const key = mqKey(mq);
      if (locks.get(key)?.clientId === clientId) locks.delete(key);
    }
    if (locks.size === 0) this.groups.delete(group);
  }
}
