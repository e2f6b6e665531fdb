import type { Logger } from '../../common/logger';
import { MessageConst } from '../../common/message/properties';
import { decodeRecord, type MessageRecord, RecordError } from '../../common/message/record';
import { TRANS_HALF_TOPIC } from '../metadata/system-topics';
import type { MessageStore } from '../store/message-store';
import type { MessageToStore, PutMessageResult } from '../store/message-types';
import { isStored } from '../store/status';
import { opMessage, toCommittedMessage, toHalfMessage } from './half-message';

/** Outcome of resolving a half message. */
export type ResolveOutcome = 'done' | 'already-resolved' | 'store-failed' | 'invalid';

/**
 * Half and op messages in the store (RocketMQ TransactionalMessageBridge): puts half messages,
 * finds them by CommitLog offset, commits or rolls them back with an op record.
 *
 * It remembers what it resolved, by half queue offset and by transaction id: a half message
 * and the copies the check service appends before each check-back share a transaction id, so
 * whichever END_TRANSACTION comes first (the producer's own or a check-back's answer) decides,
 * and a later one for any copy only closes that copy: a message is never delivered twice.
 */
export class TransactionalMessageStore {
  /** Half queue offsets with an op record, at or above the check service's progress. */
  private readonly resolvedOffsets = new Set<number>();
  /** Transaction id → when it was resolved. */
  private readonly resolvedTx = new Map<string, number>();

  constructor(
    readonly store: MessageStore,
    private readonly logger: Logger,
  ) {}

  putHalfMessage = (msg: MessageToStore): Promise<PutMessageResult> =>
    this.store.putMessage(toHalfMessage(msg));

  /** The half message stored at `commitLogOffset`, undefined if there is none. */
  async lookHalfMessage(commitLogOffset: number): Promise<MessageRecord | undefined> {
    const buf = await this.store.lookMessageByOffset(commitLogOffset);
    if (!buf) return undefined;
    let record: MessageRecord;
    try {
      record = decodeRecord(buf);
    } catch (err) {
      // An offset that is not the start of a record (a forged or corrupted request).
      if (err instanceof RecordError) return undefined;
      throw err;
    }
    return record.topic === TRANS_HALF_TOPIC ? record : undefined;
  }

  isResolved(halfQueueOffset: number): boolean {
    return this.resolvedOffsets.has(halfQueueOffset);
  }

  /** Whether another copy of this half message's transaction was already resolved. */
  isTransactionResolved(half: MessageRecord): boolean {
    return this.resolvedTx.has(transactionIdOf(half));
  }

  /** Notes op records read back from the op queue (after a restart, or written earlier). */
  markResolved(halfQueueOffset: number): void {
    this.resolvedOffsets.add(halfQueueOffset);
  }

  /**
   * Forgets resolved offsets below the check service's committed half offset and transaction
   * ids resolved before `txBefore` (no copy of them can still be waiting by then).
   */
  forget(halfOffset: number, txBefore: number): void {
    for (const offset of this.resolvedOffsets) {
      if (offset < halfOffset) this.resolvedOffsets.delete(offset);
    }
    for (const [tx, at] of this.resolvedTx) if (at < txBefore) this.resolvedTx.delete(tx);
  }

  /** Commit: the real message is stored, then the op record; rollback: only the op record. */
  async resolve(half: MessageRecord, commit: boolean): Promise<ResolveOutcome> {
    if (this.resolvedOffsets.has(half.queueOffset)) return 'already-resolved';
    const tx = transactionIdOf(half);
    if (this.resolvedTx.has(tx)) {
      await this.writeOp(half);
      return 'already-resolved';
    }
    // Claimed before the awaits so a concurrent END_TRANSACTION for the same message is ignored.
    this.resolvedOffsets.add(half.queueOffset);
    this.resolvedTx.set(tx, Date.now());
    if (commit) {
      const real = toCommittedMessage(half);
      const put = real ? await this.store.putMessage(real) : undefined;
      if (!put || !isStored(put.status)) {
        this.resolvedOffsets.delete(half.queueOffset);
        this.resolvedTx.delete(tx);
        if (!put) return 'invalid';
        this.logger.warn(
          { topic: real?.topic, status: put.status, remark: put.remark },
          'committed transaction message not stored',
        );
        return 'store-failed';
      }
    }
    await this.writeOp(half);
    return 'done';
  }

  /** Records the outcome of the half message in the op queue. */
  async writeOp(half: MessageRecord): Promise<void> {
    this.resolvedOffsets.add(half.queueOffset);
    const op = await this.store.putMessage(opMessage(half.queueOffset, half));
    if (!isStored(op.status)) {
      // The outcome is decided (and for a commit delivered); without the op record the check
      // service may ask the producer again, and the answer is ignored while this process runs.
      this.logger.warn(
        { halfOffset: half.queueOffset, status: op.status },
        'transaction op record not stored',
      );
    }
  }
}

/** The transaction id shared by a half message and its checked copies. */
export function transactionIdOf(half: MessageRecord): string {
  return (
    half.properties.get(MessageConst.TRANSACTION_ID) ??
    half.properties.get(MessageConst.UNIQ_KEY) ??
    String(half.physicalOffset)
  );
}
