/**
 * Queue allocation strategies of a clustering consumer group (broker-internals.md §11.4). Every
 * member computes the same split from the same sorted queue and client-id lists.
 */
import type { MessageQueue } from './message-queue';

export interface AllocateStrategy {
  readonly name: string;
  /** The queues `currentCid` owns; `mqAll` and `cidAll` sorted. Empty if `currentCid` is absent. */
  allocate(
    currentCid: string,
    mqAll: readonly MessageQueue[],
    cidAll: readonly string[],
  ): MessageQueue[];
}

/** Contiguous blocks; the first `M % C` consumers take one extra queue. */
export const allocateAveragely: AllocateStrategy = {
  name: 'AVG',
  allocate(currentCid, mqAll, cidAll) {
    const index = cidAll.indexOf(currentCid);
    if (index < 0 || mqAll.length === 0) return [];
    const m = mqAll.length;
    const c = cidAll.length;
    const mod = m % c;
    const avg = m <= c ? 1 : mod > 0 && index < mod ? Math.floor(m / c) + 1 : Math.floor(m / c);
    const start = mod > 0 && index < mod ? index * avg : index * avg + mod;
    const range = Math.min(avg, m - start);
    const out: MessageQueue[] = [];
    for (let i = 0; i < range; i++) out.push(mqAll[(start + i) % m]);
    return out;
  },
};

/** Round robin: queue i goes to consumer i % C. */
export const allocateAveragelyByCircle: AllocateStrategy = {
  name: 'AVG_BY_CIRCLE',
  allocate(currentCid, mqAll, cidAll) {
    const index = cidAll.indexOf(currentCid);
    if (index < 0) return [];
    return mqAll.filter((_, i) => i % cidAll.length === index);
  },
};
