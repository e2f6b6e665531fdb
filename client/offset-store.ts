/**
 * Where a push consumer keeps its consume offsets (broker-internals.md §11.1): on the brokers
 * for clustering (UPDATE_CONSUMER_OFFSET), in a local file for broadcasting. An offset is the
 * next one to consume.
 */
import { join } from 'node:path';
import { readFileWithBackup, writeFileAtomic } from '../common/atomic-file';
import type { ClientInstance } from './client-instance';
import { type MessageQueue, queueJson, queueKey } from './message-queue';

export interface OffsetStore {
  /** Loads persisted offsets (local store) before the first rebalance. */
  load(): Promise<void>;
  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void;
  /** The in-memory offset, if any. */
  read(mq: MessageQueue): number | undefined;
  /** The persisted offset (broker or file); undefined when there is none. Throws on I/O errors. */
  readFromStore(mq: MessageQueue): Promise<number | undefined>;
  /** Persists the offsets of `mqs`; `acknowledged` waits for the broker (used at shutdown). */
  persist(mqs: readonly MessageQueue[], acknowledged: boolean): Promise<void>;
  remove(mq: MessageQueue): void;
}

/** Offsets in memory, keyed by queue. */
class OffsetTable {
  protected readonly table = new Map<string, { mq: MessageQueue; offset: number }>();

  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const key = queueKey(mq);
    const entry = this.table.get(key);
    if (!entry) this.table.set(key, { mq, offset });
    else if (!increaseOnly || offset > entry.offset) entry.offset = offset;
  }

  read(mq: MessageQueue): number | undefined {
    return this.table.get(queueKey(mq))?.offset;
  }

  remove(mq: MessageQueue): void {
    this.table.delete(queueKey(mq));
  }
}

export class RemoteOffsetStore extends OffsetTable implements OffsetStore {
  constructor(
    private readonly client: ClientInstance,
    private readonly group: string,
  ) {
    super();
  }

  async load(): Promise<void> {}

  async readFromStore(mq: MessageQueue): Promise<number | undefined> {
    const addr = await this.brokerAddr(mq);
    const offset = await this.client.broker.queryConsumerOffset(addr, this.group, mq);
    if (offset !== undefined) this.update(mq, offset, false);
    return offset;
  }

  async persist(mqs: readonly MessageQueue[], acknowledged: boolean): Promise<void> {
    await Promise.all(
      mqs.map(async (mq) => {
        const offset = this.read(mq);
        if (offset === undefined || offset < 0) return;
        try {
          const addr = await this.brokerAddr(mq);
          await this.client.broker.updateConsumerOffset(
            addr,
            this.group,
            mq,
            offset,
            !acknowledged,
          );
        } catch (err) {
          this.client.logger.warn(
            { group: this.group, mq, offset, err: String(err) },
            'committing consume offset failed',
          );
        }
      }),
    );
  }

  private brokerAddr(mq: MessageQueue): Promise<string> {
    return this.client.routes.findMasterAddr(mq.brokerName, mq.topic);
  }
}

/** `<dir>/<clientId>/<group>/offsets.json`: `{"offsets":[{"brokerName","queueId","topic","offset"}]}`. */
export class LocalOffsetStore extends OffsetTable implements OffsetStore {
  private readonly path: string;

  constructor(dir: string, clientId: string, group: string) {
    super();
    this.path = join(dir, clientId.replace(/[^\w.@#-]/g, '_'), group, 'offsets.json');
  }

  async load(): Promise<void> {
    const stored = await readFileWithBackup(
      this.path,
      (text) => JSON.parse(text) as { offsets?: (MessageQueue & { offset: number })[] },
    );
    for (const { brokerName, queueId, topic, offset } of stored?.offsets ?? []) {
      this.update({ brokerName, queueId, topic }, offset, false);
    }
  }

  async readFromStore(mq: MessageQueue): Promise<number | undefined> {
    return this.read(mq);
  }

  async persist(): Promise<void> {
    const offsets = [...this.table.values()].map(({ mq, offset }) => ({
      ...queueJson(mq),
      offset,
    }));
    await writeFileAtomic(this.path, JSON.stringify({ offsets }));
  }
}
