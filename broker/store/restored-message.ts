/**
 * Turning a stored record back into a message to store: what the broker does whenever it moves
 * a message parked in a system topic (SCHEDULE_TOPIC_XXXX, RMQ_SYS_TRANS_HALF_TOPIC) to where
 * it belongs (remoting.md §6.10).
 */
import { encodeProperties, MessageConst } from '../../common/message/properties';
import type { MessageRecord } from '../../common/message/record';
import type { MessageToStore } from './message-types';

/** The record as a message to put again: every field kept, `props` encoded as its properties. */
export function toMessageToStore(
  record: MessageRecord,
  props: Map<string, string> = record.properties,
): MessageToStore {
  return {
    topic: record.topic,
    queueId: record.queueId,
    flag: record.flag,
    sysFlag: record.sysFlag,
    bornTimestamp: record.bornTimestamp,
    bornHost: record.bornHost,
    storeHost: record.storeHost,
    reconsumeTimes: record.reconsumeTimes,
    preparedTransactionOffset: record.preparedTransactionOffset,
    body: record.body,
    properties: encodeProperties(props),
  };
}

/** The REAL_TOPIC and REAL_QID of a parked message, undefined when they are missing or bad. */
export function realTarget(record: MessageRecord): { topic: string; queueId: number } | undefined {
  const topic = record.properties.get(MessageConst.REAL_TOPIC);
  const queueId = Number(record.properties.get(MessageConst.REAL_QID));
  if (topic === undefined || !Number.isInteger(queueId) || queueId < 0) return undefined;
  return { topic, queueId };
}
