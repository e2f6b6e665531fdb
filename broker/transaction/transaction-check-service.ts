import type { Logger } from '../../common/logger';
import { createOffsetMsgId } from '../../common/message/message-id';
import { MessageConst } from '../../common/message/properties';
import { decodeRecord, encodeRecord, type MessageRecord } from '../../common/message/record';
import { RequestCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { CheckTransactionStateRequestHeader } from '../../common/protocol/headers';
import type { BrokerConfig } from '../broker-config';
import type { ProducerManager } from '../client/producer-manager';
import type { ConsumerOffsetManager } from '../metadata/consumer-offset-manager';
import { TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from '../metadata/system-topics';
import type { PutMessageResult } from '../store/message-types';
import { realTarget } from '../store/restored-message';
import { isStored } from '../store/status';
import {
  checkedCopy,
  checkTimes,
  HALF_QUEUE_ID,
  opOffsets,
  TRANS_CHECK_GROUP,
} from './half-message';
import { transactionIdOf, type TransactionalMessageStore } from './transactional-message-store';

/** Entries read per store call. */
const BATCH = 32;

type CheckConfig = Pick<
  BrokerConfig,
  'transactionTimeOut' | 'transactionCheckInterval' | 'transactionCheckMax'
>;

/** An op message read this round: its queue offset and the half offsets it resolves. */
interface OpEntry {
  queueOffset: number;
  halfOffsets: number[];
}

/**
 * The master's transaction check service (TransactionalMessageCheckService and
 * TransactionalMessageServiceImpl.check, broker-internals.md §10.3). Every
 * `transactionCheckInterval` it walks the half queue from its committed offset: half messages
 * with an op record are skipped; one older than `transactionTimeOut` is appended again with
 * TRANSACTION_CHECK_TIMES + 1 and checked back with CHECK_TRANSACTION_STATE at a live producer
 * of its group; one already checked `transactionCheckMax` times is rolled back and logged. The
 * progress through both queues is group CID_RMQ_SYS_TRANS's consumer offsets, and the check
 * count is in the store, so a restarted broker goes on where it stopped.
 */
export class TransactionCheckService {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  /** Round-robin position over a group's producer channels. */
  private nextChannel = 0;

  constructor(
    private readonly transactions: TransactionalMessageStore,
    private readonly offsets: ConsumerOffsetManager,
    private readonly producers: ProducerManager,
    private readonly config: CheckConfig,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.check()
        .catch((err: unknown) => this.logger.error({ err }, 'transaction check round failed'))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.config.transactionCheckInterval);
    this.timer.unref();
  }

  /** One round over the half queue. */
  async check(): Promise<void> {
    const store = this.transactions.store;
    if (store.brokerRole === 'SLAVE') return;
    const roundStart = Date.now();
    const halfStart = this.committed(TRANS_HALF_TOPIC);
    const ops = await this.readOps(this.committed(TRANS_OP_HALF_TOPIC), halfStart);
    const halfEnd = await this.walkHalfQueue(halfStart, roundStart);
    this.offsets.commit(TRANS_CHECK_GROUP, TRANS_HALF_TOPIC, HALF_QUEUE_ID, halfEnd);
    // The op queue advances past the op messages that only resolve offsets behind us.
    let opEnd = ops.start;
    for (const op of ops.entries) {
      if (op.halfOffsets.some((offset) => offset >= halfEnd)) break;
      opEnd = op.queueOffset + 1;
    }
    this.offsets.commit(TRANS_CHECK_GROUP, TRANS_OP_HALF_TOPIC, HALF_QUEUE_ID, opEnd);
    const { transactionCheckInterval, transactionCheckMax, transactionTimeOut } = this.config;
    // A transaction's copies are all checked within this window, so its id can be forgotten.
    const keep = transactionTimeOut + transactionCheckInterval * (transactionCheckMax + 2);
    this.transactions.forget(halfEnd, roundStart - keep);
  }

  /** The committed offset of a queue, or its min offset when there is none yet. */
  private committed(topic: string): number {
    const offset = this.offsets.query(TRANS_CHECK_GROUP, topic, HALF_QUEUE_ID);
    return offset >= 0 ? offset : this.transactions.store.getMinOffsetInQueue(topic, HALF_QUEUE_ID);
  }

  /** Reads every op message from `from` and notes the half offsets ≥ `halfStart` they resolve. */
  private async readOps(
    from: number,
    halfStart: number,
  ): Promise<{ start: number; entries: OpEntry[] }> {
    const entries: OpEntry[] = [];
    let start = from;
    let offset = from;
    for (;;) {
      const result = await this.read(TRANS_OP_HALF_TOPIC, offset);
      if (result.messages.length === 0) {
        if (result.nextBeginOffset <= offset) break;
        // The op queue's head was removed by retention: go on from its new start.
        if (entries.length === 0) start = result.nextBeginOffset;
        offset = result.nextBeginOffset;
        continue;
      }
      for (const buf of result.messages) {
        const record = decodeRecord(buf, 0, true);
        const halfOffsets = opOffsets(record);
        for (const half of halfOffsets) if (half >= halfStart) this.transactions.markResolved(half);
        entries.push({ queueOffset: record.queueOffset, halfOffsets });
      }
      offset = result.nextBeginOffset;
    }
    return { start, entries };
  }

  /** Walks the half queue from `from`; returns the offset the next round starts at. */
  private async walkHalfQueue(from: number, roundStart: number): Promise<number> {
    const immunity = this.config.transactionTimeOut;
    let offset = from;
    while (!this.stopped) {
      const result = await this.read(TRANS_HALF_TOPIC, offset);
      if (result.messages.length === 0) {
        if (result.nextBeginOffset <= offset) return offset;
        offset = result.nextBeginOffset;
        continue;
      }
      for (const buf of result.messages) {
        const half = decodeRecord(buf);
        offset = half.queueOffset;
        if (this.transactions.isResolved(offset)) {
          offset++;
          continue;
        }
        if (this.transactions.isTransactionResolved(half)) {
          await this.transactions.writeOp(half);
          offset++;
          continue;
        }
        // Copies appended during this round are checked in the next one.
        if (half.storeTimestamp >= roundStart) return offset;
        if (checkTimes(half) >= this.config.transactionCheckMax) {
          await this.discard(half);
          offset++;
          continue;
        }
        if (roundStart - half.bornTimestamp < Math.max(immunity, ownImmunity(half))) return offset;
        if (!(await this.checkBack(half))) return offset;
        offset++;
      }
    }
    return offset;
  }

  private read(topic: string, offset: number) {
    return this.transactions.store.getMessage({
      topic,
      queueId: HALF_QUEUE_ID,
      offset,
      maxMsgNums: BATCH,
    });
  }

  /** Checked too often: rolled back (RocketMQ 4.x logs it; the op record makes it final). */
  private async discard(half: MessageRecord): Promise<void> {
    this.logger.warn(
      {
        transactionId: transactionIdOf(half),
        producerGroup: half.properties.get(MessageConst.PGROUP),
        topic: half.properties.get(MessageConst.REAL_TOPIC),
        checkTimes: checkTimes(half),
      },
      'half message checked transactionCheckMax times without an outcome, rolled back',
    );
    await this.transactions.writeOp(half);
  }

  /**
   * Appends the copy with the incremented check count, then asks a producer of the group.
   * False when the copy could not be stored (the round stops; the next one retries).
   */
  private async checkBack(half: MessageRecord): Promise<boolean> {
    const copy = checkedCopy(half);
    const put = await this.transactions.store.putMessage(copy);
    if (!isStored(put.status)) {
      this.logger.warn(
        { status: put.status, remark: put.remark },
        'cannot append the checked half message copy',
      );
      return false;
    }
    // The original needs no op record: the walk moves past it, and an END_TRANSACTION that
    // still arrives for it resolves the transaction, so its copy is then closed unchecked.
    const group = half.properties.get(MessageConst.PGROUP) ?? '';
    const channels = this.producers.channels(group);
    if (channels.length === 0) {
      this.logger.warn(
        { producerGroup: group, transactionId: transactionIdOf(half) },
        'no live producer of the group to check the transaction back; will retry next round',
      );
      return true;
    }
    const channel = channels[this.nextChannel++ % channels.length];
    const request = this.checkRequest(half, copy.properties, put);
    if (!channel.connection.invokeOneway(request)) {
      this.logger.warn(
        { producerGroup: group, clientId: channel.clientId },
        'cannot send CHECK_TRANSACTION_STATE',
      );
    }
    return true;
  }

  /** CHECK_TRANSACTION_STATE for the copy; the body is the message with its real topic/queue. */
  private checkRequest(half: MessageRecord, properties: string, put: PutMessageResult) {
    const target = realTarget(half) ?? { topic: half.topic, queueId: half.queueId };
    const offsetMsgId = createOffsetMsgId(half.storeHost, put.wroteOffset);
    const body = encodeRecord({
      ...half,
      ...target,
      queueOffset: put.logicsOffset,
      physicalOffset: put.wroteOffset,
      storeTimestamp: put.storeTimestamp,
      properties,
    });
    return createRequest(
      RequestCode.CHECK_TRANSACTION_STATE,
      CheckTransactionStateRequestHeader.encode({
        tranStateTableOffset: put.logicsOffset,
        commitLogOffset: put.wroteOffset,
        msgId: half.properties.get(MessageConst.UNIQ_KEY),
        transactionId: transactionIdOf(half),
        offsetMsgId,
      }),
      body,
    );
  }
}

/** A message's own CHECK_IMMUNITY_TIME_IN_SECONDS, in ms (0 when unset). */
function ownImmunity(half: MessageRecord): number {
  const seconds = Number(half.properties.get(MessageConst.CHECK_IMMUNITY_TIME_IN_SECONDS));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}
