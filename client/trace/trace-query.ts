/**
 * Reading a message's trace back (mqadmin queryMsgTraceById): the trace messages whose KEYS
 * hold the msgId, decoded, with the traced message's own store facts.
 */
import { formatHostAddress } from '../../common/message/host';
import type { AdminClient } from '../admin-client';
import type { MessageExt } from '../message';
import {
  decodeTraceRecords,
  type EndTransactionTrace,
  type PubTrace,
  TRACE_TOPIC,
} from './trace-data';

/** One consumption by one group: a SubBefore and, once the listener returned, its SubAfter. */
export interface ConsumeTrace {
  group: string;
  /** The consumer's address, as the broker saw the trace message. */
  clientHost: string;
  timestamp: number;
  retryTimes: number;
  /** Undefined while no SubAfter was found. */
  costTime?: number;
  success?: boolean;
}

export interface PublishTrace extends PubTrace {
  clientHost: string;
}

export interface TransactionTrace extends EndTransactionTrace {
  clientHost: string;
}

export interface MessageTrace {
  msgId: string;
  sends: PublishTrace[];
  /** Where and when the broker stored the message (from the first successful send). */
  stored?: {
    topic: string;
    queueId: number;
    queueOffset: number;
    storeTimestamp: number;
    storeHost: string;
  };
  consumes: ConsumeTrace[];
  /** END_TRANSACTIONs of a transactional message, oldest first. */
  transactions: TransactionTrace[];
}

export async function queryMessageTrace(
  admin: AdminClient,
  msgId: string,
  traceTopic = TRACE_TOPIC,
): Promise<MessageTrace> {
  const traceMessages = await admin.queryMessageByKey(traceTopic, msgId, { maxNum: 64 });
  const sends: PublishTrace[] = [];
  const transactions: TransactionTrace[] = [];
  const consumes = new Map<string, ConsumeTrace>();
  const afters: { requestId: string; costTime: number; success: boolean }[] = [];
  for (const tm of traceMessages) {
    const clientHost = formatHostAddress(tm.bornHost);
    for (const r of decodeTraceRecords(tm.body.toString('utf8'))) {
      if (r.msgId !== msgId) continue;
      if (r.type === 'Pub') sends.push({ ...r, clientHost });
      else if (r.type === 'SubBefore') {
        consumes.set(r.requestId, {
          group: r.group,
          clientHost,
          timestamp: r.timestamp,
          retryTimes: r.retryTimes,
        });
      } else if (r.type === 'EndTransaction') transactions.push({ ...r, clientHost });
      else afters.push(r);
    }
  }
  for (const after of afters) {
    const consume = consumes.get(after.requestId);
    if (consume) Object.assign(consume, { costTime: after.costTime, success: after.success });
  }
  sends.sort((a, b) => a.timestamp - b.timestamp);
  const trace: MessageTrace = {
    msgId,
    sends,
    consumes: [...consumes.values()].sort((a, b) => a.timestamp - b.timestamp),
    transactions: transactions.sort((a, b) => a.timestamp - b.timestamp),
  };
  const sent = sends.find((s) => s.success && s.offsetMsgId !== 'null');
  if (sent) {
    const msg: MessageExt | undefined = await admin
      .viewMessage(sent.offsetMsgId)
      .catch(() => undefined);
    if (msg) {
      trace.stored = {
        topic: msg.topic,
        queueId: msg.queueId,
        queueOffset: msg.queueOffset,
        storeTimestamp: msg.storeTimestamp,
        storeHost: formatHostAddress(msg.storeHost),
      };
    }
  }
  return trace;
}
