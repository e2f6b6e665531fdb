/**
 * Running a push consumer's listener over pulled messages: concurrently (batches in parallel,
 * failures re-delivered through the retry topic) or orderly (one batch at a time per locked
 * queue, failures retried in place). Mirrors Java's ConsumeMessage{Concurrently,Orderly}Service.
 */
import type { Logger } from '../common/logger';
import { MessageConst } from '../common/message/properties';
import { Semaphore, sleep } from './async-util';
import type { MessageExt } from './message';
import type { MessageQueue } from './message-queue';
import type { OffsetStore } from './offset-store';
import type { ProcessQueue } from './process-queue';

export type ConsumeConcurrentlyStatus = 'CONSUME_SUCCESS' | 'RECONSUME_LATER';
export type ConsumeOrderlyStatus = 'SUCCESS' | 'SUSPEND_CURRENT_QUEUE_A_MOMENT';

export interface ConsumeConcurrentlyContext {
  messageQueue: MessageQueue;
  /** Set before returning RECONSUME_LATER: 0 lets the broker choose (3 + reconsumeTimes), -1 sends to the DLQ. */
  delayLevelWhenNextConsume: number;
}

export interface ConsumeOrderlyContext {
  messageQueue: MessageQueue;
}

export type ConcurrentListener = (
  msgs: MessageExt[],
  context: ConsumeConcurrentlyContext,
) => Promise<ConsumeConcurrentlyStatus> | ConsumeConcurrentlyStatus;

export type OrderlyListener = (
  msgs: MessageExt[],
  context: ConsumeOrderlyContext,
) => Promise<ConsumeOrderlyStatus> | ConsumeOrderlyStatus;

/** What the consume services need from their consumer. */
export interface ConsumeHost {
  readonly group: string;
  readonly logger: Logger;
  readonly offsetStore: OffsetStore;
  readonly clustering: boolean;
  readonly batchMaxSize: number;
  /** Sends a failed message back for re-delivery; false if that failed too. */
  sendMessageBack(msg: MessageExt, delayLevel: number): Promise<boolean>;
}

export interface ConsumeService {
  /** Newly pulled messages of `pq` (already added to it). */
  submit(pq: ProcessQueue, mq: MessageQueue, msgs: readonly MessageExt[]): void;
  /** Resolves when no listener call is running. */
  idle(): Promise<void>;
}

/** A message from %RETRY%group carries its original topic in RETRY_TOPIC: restore it. */
function restoreTopic(group: string, msg: MessageExt): MessageExt {
  const original = msg.properties.get(MessageConst.RETRY_TOPIC);
  if (original && msg.topic === `%RETRY%${group}`) msg.topic = original;
  return msg;
}

/** Java re-consumes messages whose send-back failed after this delay. */
const RECONSUME_LOCALLY_AFTER_MS = 5000;

export class ConcurrentConsumeService implements ConsumeService {
  private readonly pool: Semaphore;

  constructor(
    private readonly host: ConsumeHost,
    private readonly listener: ConcurrentListener,
    concurrency: number,
  ) {
    this.pool = new Semaphore(concurrency);
  }

  submit(pq: ProcessQueue, mq: MessageQueue, msgs: readonly MessageExt[]): void {
    for (let i = 0; i < msgs.length; i += this.host.batchMaxSize) {
      const batch = msgs.slice(i, i + this.host.batchMaxSize);
      void this.pool.run(() => this.consume(pq, mq, batch));
    }
  }

  idle(): Promise<void> {
    return this.pool.idle();
  }

  private async consume(pq: ProcessQueue, mq: MessageQueue, msgs: MessageExt[]): Promise<void> {
    if (pq.dropped) return;
    const context: ConsumeConcurrentlyContext = { messageQueue: mq, delayLevelWhenNextConsume: 0 };
    let status: ConsumeConcurrentlyStatus;
    try {
      status = await this.listener(
        msgs.map((m) => restoreTopic(this.host.group, m)),
        context,
      );
    } catch (err) {
      this.host.logger.warn({ mq, err: String(err) }, 'message listener threw; reconsume later');
      status = 'RECONSUME_LATER';
    }
    // A queue dropped by a rebalance meanwhile belongs to another consumer now: no commit.
    if (pq.dropped) return;
    let retryLocally: MessageExt[] = [];
    if (status === 'RECONSUME_LATER') {
      if (this.host.clustering) {
        const results = await Promise.all(
          msgs.map((m) => this.host.sendMessageBack(m, context.delayLevelWhenNextConsume)),
        );
        retryLocally = msgs.filter((_, i) => !results[i]);
      } else {
        this.host.logger.warn(
          { mq, msgIds: msgs.map((m) => m.msgId) },
          'broadcasting consumption failed; messages dropped',
        );
      }
    }
    const done = retryLocally.length === 0 ? msgs : msgs.filter((m) => !retryLocally.includes(m));
    const offset = pq.remove(done);
    if (offset >= 0 && !pq.dropped) this.host.offsetStore.update(mq, offset, true);
    if (retryLocally.length > 0) {
      for (const m of retryLocally) m.reconsumeTimes++;
      void sleep(RECONSUME_LOCALLY_AFTER_MS).then(() => this.submit(pq, mq, retryLocally));
    }
  }
}

export class OrderlyConsumeService implements ConsumeService {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly host: ConsumeHost,
    private readonly listener: OrderlyListener,
    private readonly suspendMs: number,
  ) {}

  submit(pq: ProcessQueue, mq: MessageQueue): void {
    if (pq.orderlyRun) return;
    const run = this.consumeLoop(pq, mq).finally(() => {
      pq.orderlyRun = undefined;
      this.running.delete(run);
    });
    pq.orderlyRun = run;
    this.running.add(run);
  }

  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  /** Consumes `pq` batch by batch, in order, while the lock is held. */
  private async consumeLoop(pq: ProcessQueue, mq: MessageQueue): Promise<void> {
    while (!pq.dropped) {
      // Clustering: only the lock holder may consume, or order would break across consumers.
      if (this.host.clustering && (!pq.locked || pq.lockExpired())) return;
      const msgs = pq.take(this.host.batchMaxSize);
      if (msgs.length === 0) return;
      let status: ConsumeOrderlyStatus;
      try {
        status = await this.listener(
          msgs.map((m) => restoreTopic(this.host.group, m)),
          { messageQueue: mq },
        );
      } catch (err) {
        this.host.logger.warn({ mq, err: String(err) }, 'orderly listener threw; suspending queue');
        status = 'SUSPEND_CURRENT_QUEUE_A_MOMENT';
      }
      if (pq.dropped) return;
      if (status === 'SUCCESS') {
        this.host.offsetStore.update(mq, pq.commit(), false);
      } else {
        pq.rollback();
        await sleep(this.suspendMs);
      }
    }
  }
}
