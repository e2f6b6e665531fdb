/** The store's put input and result types. */
import type { HostAddress } from '../../common/message/host';
import { createOffsetMsgIds } from '../../common/message/message-id';
import type { PutMessageStatus } from './status';

/**
 * A message as the broker hands it to the store: every record field the broker decides. The
 * store assigns the queue offset, physical offset and store timestamp, computes the body CRC, and
 * reads TAGS, KEYS, UNIQ_KEY, WAIT and DELAY from `properties` itself (one scan per message).
 */
export interface MessageToStore {
  topic: string;
  queueId: number;
  flag: number;
  /** Transaction type bits decide whether the message gets a queue offset (§2.1, §2.4). */
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer;
  /** Encoded properties string (`encodeProperties`). */
  properties: string;
}

/**
 * Outcome of `putMessage` / `putMessages` (RocketMQ's PutMessageResult with its
 * AppendMessageResult folded in). For a batch the offsets are of its first message and
 * `physicalOffsets` lists them all. Fields other than `status` are −1/0 when nothing was stored.
 */
export class PutMessageResult {
  /** Offsets of every record of a batch (a single put leaves it unset). */
  batchOffsets: number[] | undefined;
  private ids: string | undefined;

  constructor(
    public status: PutMessageStatus,
    /** CommitLog offset of the (first) record. */
    public wroteOffset = -1,
    /** Bytes of all records. */
    public wroteBytes = 0,
    /** Queue offset of the (first) message; 0 for PREPARED/ROLLBACK messages. */
    public logicsOffset = -1,
    public storeTimestamp = 0,
    public msgNum = 0,
    /** Human-readable cause of a failure (logged too). */
    public remark = '',
    private readonly storeHost?: HostAddress,
  ) {}

  /** CommitLog offsets of each stored record. */
  get physicalOffsets(): number[] {
    if (this.batchOffsets !== undefined) return this.batchOffsets;
    return this.wroteOffset >= 0 ? [this.wroteOffset] : [];
  }

  /**
   * Offset message id(s) (remoting.md §6.7), comma-joined for a batch, computed on first use
   * (store-internal writers rarely need them); empty when nothing was stored.
   */
  get msgId(): string {
    if (this.ids === undefined) {
      const host = this.storeHost;
      this.ids =
        host === undefined || this.wroteOffset < 0
          ? ''
          : createOffsetMsgIds(host, this.physicalOffsets);
    }
    return this.ids;
  }
}

/** Listener for messages that became consumable (long polling, §11.3). */
export type MessageArrivedListener = (
  topic: string,
  queueId: number,
  /** Queue offset of the message + 1: the queue's new max offset. */
  logicOffset: number,
  tagsCode: number,
  storeTimestamp: number,
) => void;
