/**
 * Choosing the queue a message goes to. A selector sees the topic's writable queues and the
 * caller's argument, as Java's `MessageQueueSelector`: hashing a sharding key keeps every
 * message with that key in one queue, and therefore in order.
 */
import { javaStringHash } from '../common/message/java-hash';
import type { MessageQueue } from './message-queue';

export type MessageQueueSelector<A = unknown> = (
  queues: readonly MessageQueue[],
  arg: A,
) => MessageQueue;

/** A wrapping counter starting at a random point, as Java's `ThreadLocalIndex`. */
export class RoundRobin {
  private value = Math.floor(Math.random() * 0x7fffffff);

  /** The next index below `size`. */
  next(size: number): number {
    this.value = (this.value + 1) & 0x7fffffff;
    return this.value % size;
  }
}

/** Java `SelectMessageQueueByHash`: `|hashCode(arg) % n|`; strings hash as Java strings. */
export const selectByHash: MessageQueueSelector<string | number> = (queues, arg) => {
  const hash = typeof arg === 'number' ? arg | 0 : javaStringHash(arg);
  return queues[Math.abs(hash % queues.length)];
};

export const selectByRandom: MessageQueueSelector = (queues) =>
  queues[Math.floor(Math.random() * queues.length)];

/** A selector cycling through the queues. */
export function roundRobinSelector(): MessageQueueSelector {
  const counter = new RoundRobin();
  return (queues) => queues[counter.next(queues.length)];
}
