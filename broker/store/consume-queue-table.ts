/**
 * Every ConsumeQueue of the store, by topic and queue id, under `consumequeue/<topic>/<queueId>/`
 * (broker-internals.md §1.1, §1.4): loads and recovers them at start, creates one when the
 * dispatcher meets a new queue, and drops a topic's queues on request.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { ConsumeQueue } from './consume-queue';
import type { StoreIO } from './store-io';

const QUEUE_ID_DIR = /^\d{1,9}$/;

export class ConsumeQueueTable {
  private readonly topics = new Map<string, Map<number, ConsumeQueue>>();

  constructor(
    private readonly io: StoreIO,
    private readonly rootDir: string,
    private readonly fileSize: number,
    private readonly logger: Logger,
  ) {}

  /** Loads every queue directory found and recovers it (§3.2). */
  async load(): Promise<void> {
    await fsp.mkdir(this.rootDir, { recursive: true });
    for (const topic of await fsp.readdir(this.rootDir)) {
      const topicDir = path.join(this.rootDir, topic);
      if (!(await fsp.stat(topicDir)).isDirectory()) continue;
      for (const qid of await fsp.readdir(topicDir)) {
        if (!QUEUE_ID_DIR.test(qid)) continue;
        const cq = this.create(topic, Number(qid));
        await cq.recover();
      }
    }
  }

  find(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.topics.get(topic)?.get(queueId);
  }

  findOrCreate(topic: string, queueId: number): ConsumeQueue {
    return this.find(topic, queueId) ?? this.create(topic, queueId);
  }

  private create(topic: string, queueId: number): ConsumeQueue {
    let queues = this.topics.get(topic);
    if (queues === undefined) {
      queues = new Map();
      this.topics.set(topic, queues);
    }
    const cq = new ConsumeQueue(
      this.io,
      topic,
      queueId,
      path.join(this.rootDir, topic, String(queueId)),
      this.fileSize,
      this.logger,
    );
    queues.set(queueId, cq);
    return cq;
  }

  *all(): IterableIterator<ConsumeQueue> {
    for (const queues of this.topics.values()) yield* queues.values();
  }

  /** The largest CommitLog end any queue points to (−1 if no queue has an entry). */
  maxPhysicalEnd(): number {
    let max = -1;
    for (const cq of this.all()) max = Math.max(max, cq.lastPhysicalEnd());
    return max;
  }

  /** Deletes the queues of `topic` and their directory; returns whether it had any. */
  async deleteTopic(topic: string): Promise<boolean> {
    const queues = this.topics.get(topic);
    if (queues === undefined) return false;
    this.topics.delete(topic);
    for (const cq of queues.values()) await cq.destroy();
    await fsp.rm(path.join(this.rootDir, topic), { recursive: true, force: true });
    this.logger.info({ topic }, 'consume queues of topic deleted');
    return true;
  }

  async close(): Promise<void> {
    for (const cq of this.all()) await cq.close();
  }
}
