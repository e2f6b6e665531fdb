/** Admin verbs that read message traces. */
import { TRACE_TOPIC } from '../client/trace/trace-data';
import { queryMessageTrace, type MessageTrace } from '../client/trace/trace-query';
import type { AdminCommand } from './admin-context';
import { formatTable } from './table';

const time = (ms: number) => new Date(ms).toISOString();

/** The message's path: its sends, where it was stored, and every consumption by group. */
export function describeTrace(trace: MessageTrace): string {
  if (trace.sends.length === 0 && trace.consumes.length === 0) {
    return `no trace of message ${trace.msgId}`;
  }
  const sends = formatTable(
    ['#Type', '#ProducerGroup', '#ClientHost', '#SendTime', '#CostTimes', '#Status'],
    trace.sends.map((s) => [
      'Pub',
      s.group,
      s.clientHost,
      time(s.timestamp),
      `${s.costTime}ms`,
      s.success ? 'success' : 'failed',
    ]),
  );
  const stored = trace.stored
    ? `Stored: ${time(trace.stored.storeTimestamp)} on ${trace.stored.storeHost}, topic ${trace.stored.topic} queue ${trace.stored.queueId} offset ${trace.stored.queueOffset}`
    : 'Stored: unknown (the message is no longer in the store)';
  const consumes = formatTable(
    [
      '#Type',
      '#ConsumerGroup',
      '#ClientHost',
      '#ConsumerTime',
      '#RetryTimes',
      '#CostTimes',
      '#Status',
    ],
    trace.consumes.map((c) => [
      'Sub',
      c.group,
      c.clientHost,
      time(c.timestamp),
      c.retryTimes,
      c.costTime === undefined ? '-' : `${c.costTime}ms`,
      c.success === undefined ? 'consuming' : c.success ? 'success' : 'failed',
    ]),
  );
  const parts = [`Message ID: ${trace.msgId}`, sends];
  if (trace.transactions.length > 0) {
    parts.push(
      formatTable(
        ['#Type', '#ProducerGroup', '#ClientHost', '#Time', '#TransactionState', '#FromCheck'],
        trace.transactions.map((t) => [
          'EndTransaction',
          t.group,
          t.clientHost,
          time(t.timestamp),
          t.transactionState,
          String(t.fromTransactionCheck),
        ]),
      ),
    );
  }
  return [...parts, stored, consumes].join('\n');
}

export const traceCommands: Record<string, AdminCommand> = {
  queryMsgTraceById: {
    usage: 'queryMsgTraceById -n <namesrv> -i <msgId> [-t <traceTopic>]',
    run: async (ctx) =>
      describeTrace(
        await queryMessageTrace(
          ctx.admin,
          ctx.option('i', 'msgId'),
          ctx.optional('t') ?? TRACE_TOPIC,
        ),
      ),
  },
};
