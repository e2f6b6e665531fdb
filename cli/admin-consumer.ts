/** Admin verbs about consumer groups. */
import { compareQueues } from '../client/message-queue';
import type { AdminCommand } from './admin-context';
import { formatTable } from './table';

export const consumerCommands: Record<string, AdminCommand> = {
  consumerProgress: {
    usage: 'consumerProgress -n <namesrv> -g <consumerGroup> [-t <topic>]',
    run: async (ctx) => {
      const stats = await ctx.admin.consumeStats(
        ctx.option('g', 'consumerGroup'),
        ctx.optional('t'),
      );
      let diffTotal = 0;
      const rows = [...stats.offsetTable]
        .sort(([a], [b]) => compareQueues(a, b))
        .map(([mq, o]) => {
          const diff = o.brokerOffset - o.consumerOffset;
          diffTotal += diff;
          return [
            mq.topic,
            mq.brokerName,
            mq.queueId,
            o.brokerOffset,
            o.consumerOffset,
            diff,
            o.lastTimestamp > 0 ? new Date(o.lastTimestamp).toISOString() : 'N/A',
          ];
        });
      return [
        formatTable(
          [
            '#Topic',
            '#Broker Name',
            '#QID',
            '#Broker Offset',
            '#Consumer Offset',
            '#Diff',
            '#LastTime',
          ],
          rows,
        ),
        '',
        `Consume TPS: ${stats.consumeTps.toFixed(2)}`,
        `Diff Total: ${diffTotal}`,
      ].join('\n');
    },
  },
  consumerConnection: {
    usage: 'consumerConnection -n <namesrv> -g <consumerGroup>',
    run: async (ctx) => {
      const conn = await ctx.admin.consumerConnection(ctx.option('g', 'consumerGroup'));
      const clients = formatTable(
        ['#', '#ClientId', '#ClientAddr', '#Language', '#Version'],
        conn.connectionSet.map((c, i) => [i + 1, c.clientId, c.clientAddr, c.language, c.version]),
      );
      const subs = formatTable(
        ['#Topic', '#SubExpression'],
        Object.entries(conn.subscriptionTable).map(([topic, sub]) => [topic, sub.subString]),
      );
      return [
        clients,
        '',
        'Below is subscription:',
        subs,
        '',
        `ConsumeType: ${conn.consumeType}`,
        `MessageModel: ${conn.messageModel}`,
        `ConsumeFromWhere: ${conn.consumeFromWhere}`,
      ].join('\n');
    },
  },
};
