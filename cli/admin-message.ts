/** Admin verbs that send, look up and read messages. */
import type { MessageExt } from '../client/message';
import { PullConsumer } from '../client/pull-consumer';
import { Producer } from '../client/producer';
import type { AdminCommand, AdminContext } from './admin-context';
import { UsageError } from './args';
import { formatTable } from './table';

const ADMIN_GROUP = 'TOOLS_CONSUMER';

function describeMessage(msg: MessageExt): string {
  const field = (name: string, value: string | number) => `${`${name}:`.padEnd(21)}${value}`;
  const host = (h: MessageExt['bornHost']) => `${h.ip}:${h.port}`;
  return [
    field('OffsetID', msg.offsetMsgId),
    field('Topic', msg.topic),
    field('Tags', `[${msg.tags ?? ''}]`),
    field('Keys', `[${msg.keys ?? ''}]`),
    field('Queue ID', msg.queueId),
    field('Queue Offset', msg.queueOffset),
    field('CommitLog Offset', msg.physicalOffset),
    field('Reconsume Times', msg.reconsumeTimes),
    field('Born Timestamp', new Date(msg.bornTimestamp).toISOString()),
    field('Store Timestamp', new Date(msg.storeTimestamp).toISOString()),
    field('Born Host', host(msg.bornHost)),
    field('Store Host', host(msg.storeHost)),
    field('System Flag', msg.sysFlag),
    field('Properties', JSON.stringify(Object.fromEntries(msg.properties))),
    field('Message Body', msg.body.toString('utf8')),
  ].join('\n');
}

function intOption(ctx: AdminContext, letter: string, fallback?: number): number | undefined {
  const raw = ctx.optional(letter);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new UsageError(`-${letter} needs an integer, got "${raw}"`);
  return n;
}

export const messageCommands: Record<string, AdminCommand> = {
  queryMsgById: {
    usage: 'queryMsgById -n <namesrv> -i <offsetMsgId>',
    run: async (ctx) => describeMessage(await ctx.admin.viewMessage(ctx.option('i', 'msgId'))),
  },
  queryMsgByKey: {
    usage: 'queryMsgByKey -n <namesrv> -t <topic> -k <key>',
    run: async (ctx) => {
      const found = await ctx.admin.queryMessageByKey(
        ctx.option('t', 'topic'),
        ctx.option('k', 'key'),
      );
      return formatTable(
        ['#Message ID', '#QID', '#Offset'],
        found.map((m) => [m.msgId, m.queueId, m.queueOffset]),
      );
    },
  },
  sendMessage: {
    usage:
      'sendMessage -n <namesrv> -t <topic> -p <body> [-k <keys>] [-c <tags>] [-b <brokerName> -i <queueId>]',
    run: async (ctx) => {
      const producer = new Producer({
        namesrvAddr: ctx.admin.namesrvAddrs,
        producerGroup: 'PID_SMSC',
        logger: ctx.admin.logger,
      });
      await producer.start();
      try {
        const broker = ctx.optional('b');
        const queueId = intOption(ctx, 'i');
        const topic = ctx.option('t', 'topic');
        const result = await producer.send(
          {
            topic,
            body: ctx.option('p', 'body'),
            keys: ctx.optional('k'),
            tags: ctx.optional('c'),
          },
          broker !== undefined && queueId !== undefined
            ? { queue: { topic, brokerName: broker, queueId } }
            : {},
        );
        return formatTable(
          ['#Broker Name', '#QID', '#Send Result', '#MsgId'],
          [
            [
              result.messageQueue.brokerName,
              result.messageQueue.queueId,
              result.sendStatus,
              result.msgId,
            ],
          ],
        );
      } finally {
        await producer.shutdown();
      }
    },
  },
  consumeMessage: {
    usage:
      'consumeMessage -n <namesrv> -t <topic> [-b <brokerName>] [-i <queueId>] [-o <offset>] [-c <count>] [-g <group>]',
    run: async (ctx) => {
      const consumer = new PullConsumer({
        namesrvAddr: ctx.admin.namesrvAddrs,
        consumerGroup: ctx.optional('g') ?? ADMIN_GROUP,
        logger: ctx.admin.logger,
      });
      await consumer.start();
      try {
        const broker = ctx.optional('b');
        const queueId = intOption(ctx, 'i');
        const startOffset = intOption(ctx, 'o');
        let remaining = intOption(ctx, 'c', 128) ?? 128;
        const queues = (
          await consumer.fetchSubscribeMessageQueues(ctx.option('t', 'topic'))
        ).filter(
          (mq) =>
            (broker === undefined || mq.brokerName === broker) &&
            (queueId === undefined || mq.queueId === queueId),
        );
        const rows: (string | number)[][] = [];
        for (const mq of queues) {
          let offset = startOffset ?? (await consumer.minOffset(mq));
          const max = await consumer.maxOffset(mq);
          while (remaining > 0 && offset < max) {
            const result = await consumer.pull(mq, offset, Math.min(32, remaining));
            if (result.nextBeginOffset <= offset) break;
            offset = result.nextBeginOffset;
            for (const m of result.messages.slice(0, remaining)) {
              rows.push([
                mq.brokerName,
                mq.queueId,
                m.queueOffset,
                m.msgId,
                m.tags ?? '',
                m.body.toString('utf8'),
              ]);
            }
            remaining -= result.messages.length;
          }
        }
        return formatTable(['#Broker Name', '#QID', '#Offset', '#MsgId', '#Tags', '#Body'], rows);
      } finally {
        await consumer.shutdown();
      }
    },
  },
};
