/**
 * The message rewrites of transactions (broker-internals.md §10): a producer's prepared message
 * becomes a half message in RMQ_SYS_TRANS_HALF_TOPIC, a committed half message becomes its real
 * message again, and every outcome is an op message in RMQ_SYS_TRANS_OP_HALF_TOPIC.
 */
import { decodeProperties, encodeProperties, MessageConst } from '../../common/message/properties';
import type { MessageRecord } from '../../common/message/record';
import { MessageSysFlag, resetTransactionType } from '../../common/message/sysflag';
import { TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from '../metadata/system-topics';
import type { MessageToStore } from '../store/message-types';
import { realTarget, toMessageToStore } from '../store/restored-message';

/** Tag of an op message that marks a half message as resolved (TransactionalMessageUtil). */
export const REMOVE_TAG = 'd';
/** The consumer group whose offsets track the half and op queues. */
export const TRANS_CHECK_GROUP = 'CID_RMQ_SYS_TRANS';
/** The half and op topics have one queue each. */
export const HALF_QUEUE_ID = 0;

/**
 * A prepared message as stored: topic and queue moved to REAL_TOPIC/REAL_QID, the UNIQ_KEY as
 * `__transactionId__`, transaction type NOT_TYPE so it gets an entry in the half queue.
 */
export function toHalfMessage(msg: MessageToStore): MessageToStore {
  const props = decodeProperties(msg.properties);
  props.set(MessageConst.REAL_TOPIC, msg.topic);
  props.set(MessageConst.REAL_QID, String(msg.queueId));
  const uniqKey = props.get(MessageConst.UNIQ_KEY);
  if (uniqKey !== undefined) props.set(MessageConst.TRANSACTION_ID, uniqKey);
  return {
    ...msg,
    topic: TRANS_HALF_TOPIC,
    queueId: HALF_QUEUE_ID,
    sysFlag: resetTransactionType(msg.sysFlag, MessageSysFlag.TRANSACTION_NOT_TYPE),
    properties: encodeProperties(props),
  };
}

/** The committed message: real topic and queue, no TRAN_MSG, type COMMIT (EndTransactionProcessor). */
export function toCommittedMessage(record: MessageRecord): MessageToStore | undefined {
  const target = realTarget(record);
  if (!target) return undefined;
  const props = new Map(record.properties);
  props.delete(MessageConst.TRAN_MSG);
  return {
    ...toMessageToStore(record, props),
    ...target,
    sysFlag: resetTransactionType(record.sysFlag, MessageSysFlag.TRANSACTION_COMMIT_TYPE),
    preparedTransactionOffset: record.physicalOffset,
  };
}

/** How many times the half message was checked back (its TRANSACTION_CHECK_TIMES). */
export function checkTimes(record: MessageRecord): number {
  const times = Number(record.properties.get(MessageConst.TRANSACTION_CHECK_TIMES) ?? 0);
  return Number.isInteger(times) && times > 0 ? times : 0;
}

/**
 * A copy of the half message with TRANSACTION_CHECK_TIMES incremented, appended to the half
 * queue before each check-back: the count lives in the store, so it survives a restart.
 */
export function checkedCopy(record: MessageRecord): MessageToStore {
  const props = new Map(record.properties);
  props.set(MessageConst.TRANSACTION_CHECK_TIMES, String(checkTimes(record) + 1));
  return toMessageToStore(record, props);
}

/** The op message that resolves the half message at `halfQueueOffset`. */
export function opMessage(
  halfQueueOffset: number,
  half: Pick<MessageToStore, 'bornHost' | 'storeHost'>,
): MessageToStore {
  return {
    topic: TRANS_OP_HALF_TOPIC,
    queueId: HALF_QUEUE_ID,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: half.bornHost,
    storeHost: half.storeHost,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: Buffer.from(String(halfQueueOffset)),
    properties: encodeProperties({ [MessageConst.TAGS]: REMOVE_TAG }),
  };
}

/** Half queue offsets an op message resolves (4.x: one; 5.x: `"off1,off2,…,"`). */
export function opOffsets(record: MessageRecord): number[] {
  if (record.properties.get(MessageConst.TAGS) !== REMOVE_TAG) return [];
  return record.body
    .toString('utf8')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0);
}
