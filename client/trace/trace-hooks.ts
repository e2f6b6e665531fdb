/** Where producers and push consumers hand their trace records to a TraceDispatcher. */
import { randomUUID } from 'node:crypto';
import { formatHostAddress } from '../../common/message/host';
import { decodeOffsetMsgId } from '../../common/message/message-id';
import { getProperty, MessageConst } from '../../common/message/properties';
import type { Logger } from '../../common/logger';
import type { MessageExt, SendResult } from '../message';
import {
  ConsumeReturnType,
  DEFAULT_REGION,
  TRACE_PRODUCER_GROUP_PREFIX,
  TraceMessageType,
} from './trace-data';
import { TraceDispatcher, type TraceOptions, type TraceSender } from './trace-dispatcher';

/** The dispatcher of a producer or consumer with `enableMsgTrace`, else undefined. */
export function createTraceDispatcher(
  options: TraceOptions,
  group: string,
  logger: Logger,
  /** Builds the internal producer of group `_INNER_TRACE_PRODUCER-<group>`. */
  makeProducer: (producerGroup: string) => TraceSender,
): TraceDispatcher | undefined {
  if (!options.enableMsgTrace) return undefined;
  return new TraceDispatcher(
    makeProducer(`${TRACE_PRODUCER_GROUP_PREFIX}-${group}`),
    TraceDispatcher.topicOf(options),
    options.traceFlushIntervalMs ?? 5000,
    logger,
  );
}

/** A sent message's facts for its Pub record. */
export interface SentMessage {
  topic: string;
  /** The encoded properties it was sent with. */
  properties: string;
  bodyLength: number;
  result: SendResult;
  costMs: number;
}

/** Records a successful send as a Pub trace. */
export function traceSend(dispatcher: TraceDispatcher, group: string, sent: SentMessage): void {
  const props = sent.properties;
  const tags = getProperty(props, MessageConst.TAGS);
  const keys = getProperty(props, MessageConst.KEYS);
  const msgType =
    getProperty(props, MessageConst.TRAN_MSG) === 'true'
      ? TraceMessageType.Trans
      : getProperty(props, MessageConst.DELAY) !== undefined
        ? TraceMessageType.Delay
        : TraceMessageType.Normal;
  const { result } = sent;
  dispatcher.append(
    {
      type: 'Pub',
      timestamp: Date.now() - sent.costMs,
      regionId: DEFAULT_REGION,
      group,
      topic: sent.topic,
      msgId: result.msgId,
      tags: tags ?? '',
      keys: keys ?? '',
      storeHost: formatHostAddress(decodeOffsetMsgId(result.offsetMsgId).host),
      bodyLength: sent.bodyLength,
      costTime: sent.costMs,
      msgType,
      offsetMsgId: result.offsetMsgId,
      success: true,
    },
    [result.msgId, keys],
  );
}

/** A transaction's outcome as sent with END_TRANSACTION. */
export interface EndedTransaction {
  topic: string;
  msgId: string;
  tags?: string;
  keys?: string;
  storeHost: string;
  transactionId: string;
  /** COMMIT, ROLLBACK or UNKNOWN. */
  state: string;
  fromTransactionCheck: boolean;
}

/** Java's LocalTransactionState names, which trace readers expect. */
const JAVA_TRANSACTION_STATE: Record<string, string> = {
  COMMIT: 'COMMIT_MESSAGE',
  ROLLBACK: 'ROLLBACK_MESSAGE',
  UNKNOWN: 'UNKNOW',
};

/** Records an END_TRANSACTION as an EndTransaction trace. */
export function traceEndTransaction(
  dispatcher: TraceDispatcher,
  group: string,
  ended: EndedTransaction,
): void {
  dispatcher.append(
    {
      type: 'EndTransaction',
      timestamp: Date.now(),
      regionId: DEFAULT_REGION,
      group,
      topic: ended.topic,
      msgId: ended.msgId,
      tags: ended.tags ?? '',
      keys: ended.keys ?? '',
      storeHost: ended.storeHost,
      msgType: TraceMessageType.Trans,
      transactionId: ended.transactionId,
      transactionState: JAVA_TRANSACTION_STATE[ended.state] ?? ended.state,
      fromTransactionCheck: ended.fromTransactionCheck,
    },
    [ended.msgId, ended.keys],
  );
}

/**
 * Wraps a push consumer's listener: a SubBefore record per message before the call, a SubAfter
 * record per message after it, with the call's duration and whether it succeeded.
 */
export function traceListener<C, S>(
  dispatcher: TraceDispatcher,
  group: string,
  listener: (msgs: MessageExt[], context: C) => Promise<S> | S,
  isSuccess: (status: S) => boolean,
): (msgs: MessageExt[], context: C) => Promise<S> {
  return async (msgs, context) => {
    const requestId = randomUUID();
    const begin = Date.now();
    for (const m of msgs) {
      dispatcher.append(
        {
          type: 'SubBefore',
          timestamp: begin,
          regionId: m.properties.get(MessageConst.MSG_REGION) ?? DEFAULT_REGION,
          group,
          requestId,
          msgId: m.msgId,
          retryTimes: m.reconsumeTimes,
          keys: m.keys ?? '',
        },
        [m.msgId, m.keys],
      );
    }
    const after = (success: boolean, contextCode: number) => {
      const now = Date.now();
      for (const m of msgs) {
        dispatcher.append(
          {
            type: 'SubAfter',
            requestId,
            msgId: m.msgId,
            costTime: now - begin,
            success,
            keys: m.keys ?? '',
            contextCode,
            timestamp: now,
            group,
          },
          [m.msgId, m.keys],
        );
      }
    };
    let status: S;
    try {
      status = await listener(msgs, context);
    } catch (err) {
      after(false, ConsumeReturnType.EXCEPTION);
      throw err;
    }
    const success = isSuccess(status);
    after(success, success ? ConsumeReturnType.SUCCESS : ConsumeReturnType.FAILED);
    return status;
  };
}
