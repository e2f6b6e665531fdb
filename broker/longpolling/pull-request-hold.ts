import type { Connection } from '../../common/net/connection';
import type { MessageFilter } from '../store/message-store';

interface HeldPull {
  key: string;
  requestOffset: number;
  filter: MessageFilter;
  connection: Connection;
  timer: NodeJS.Timeout;
  /** Re-runs the pull and answers it. */
  wake: () => void;
}

/**
 * Long polling (PullRequestHoldService, remoting.md §7.4): a pull that found nothing is parked
 * per queue until a matching message arrives or its suspend time is up, then re-run once and
 * answered. Parked pulls of a closed connection are dropped.
 */
export class PullRequestHoldService {
  private readonly byQueue = new Map<string, Set<HeldPull>>();
  private readonly byConnection = new Map<Connection, Set<HeldPull>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  suspend(
    topic: string,
    queueId: number,
    requestOffset: number,
    filter: MessageFilter,
    connection: Connection,
    timeoutMs: number,
    wake: () => void,
  ): void {
    const key = queueKey(topic, queueId);
    const held: HeldPull = {
      key,
      requestOffset,
      filter,
      connection,
      wake,
      timer: setTimeout(() => this.release(held), Math.max(0, timeoutMs)),
    };
    addTo(this.byQueue, key, held);
    if (!this.byConnection.has(connection)) {
      connection.onClosed(() => this.connectionClosed(connection));
    }
    addTo(this.byConnection, connection, held);
    this.count++;
  }

  /** A message reached `maxOffset − 1` of the queue: wake the pulls it satisfies. */
  notifyMessageArriving(topic: string, queueId: number, maxOffset: number, tagsCode: number): void {
    const held = this.byQueue.get(queueKey(topic, queueId));
    if (!held) return;
    for (const pull of [...held]) {
      if (pull.requestOffset < maxOffset && pull.filter.isMatchedByConsumeQueue(tagsCode)) {
        this.release(pull);
      }
    }
  }

  /** Answers every parked pull now (shutdown). */
  releaseAll(): void {
    for (const held of [...this.byQueue.values()]) for (const pull of [...held]) this.release(pull);
  }

  private release(pull: HeldPull): void {
    if (!this.forget(pull)) return;
    pull.wake();
  }

  private connectionClosed(connection: Connection): void {
    for (const pull of [...(this.byConnection.get(connection) ?? [])]) this.forget(pull);
    this.byConnection.delete(connection);
  }

  private forget(pull: HeldPull): boolean {
    const held = this.byQueue.get(pull.key);
    if (!held?.delete(pull)) return false;
    if (held.size === 0) this.byQueue.delete(pull.key);
    const ofConnection = this.byConnection.get(pull.connection);
    ofConnection?.delete(pull);
    clearTimeout(pull.timer);
    this.count--;
    return true;
  }
}

const queueKey = (topic: string, queueId: number): string => `${topic}@${queueId}`;

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}
