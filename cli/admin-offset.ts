/** Admin verbs that move a consumer group's offsets. */
import { parseResetTime, RESET_TO_LATEST, resetOffsetByTime } from '../client/reset-offset';
import type { AdminCommand, AdminContext } from './admin-context';
import { UsageError } from './args';
import { formatTable } from './table';

export const offsetCommands: Record<string, AdminCommand> = {
  resetOffsetByTime: {
    usage:
      'resetOffsetByTime -n <namesrv> -g <group> -t <topic> -s <earliest|latest|now|-1h|ms|yyyy-MM-dd#HH:mm:ss:SSS> [-f <force:true|false>]',
    run: async (ctx) => {
      const raw = ctx.option('s', 'timestamp');
      const timestamp = parseResetTime(raw);
      if (timestamp === undefined) {
        throw new UsageError(
          `-s "${raw}" is not a time: use earliest, latest, now, -<n>s|m|h|d, ms since the epoch, yyyy-MM-dd#HH:mm:ss:SSS or an ISO date`,
        );
      }
      const force = ctx.optional('f') ?? 'true';
      if (force !== 'true' && force !== 'false') {
        throw new UsageError(`-f needs true or false, got "${force}"`);
      }
      return resetAndList(ctx, timestamp, force === 'true');
    },
  },
  skipAccumulatedMessage: {
    usage: 'skipAccumulatedMessage -n <namesrv> -g <group> -t <topic>',
    run: (ctx) => resetAndList(ctx, RESET_TO_LATEST, true),
  },
};

/** Resets the group named by -g on the topic named by -t; lists the new offsets. */
async function resetAndList(ctx: AdminContext, timestamp: number, force: boolean): Promise<string> {
  const offsets = await resetOffsetByTime(ctx.admin, {
    group: ctx.option('g', 'group'),
    topic: ctx.option('t', 'topic'),
    timestamp,
    force,
  });
  return formatTable(
    ['#brokerName', '#queueId', '#offset'],
    offsets.map(({ mq, offset }) => [mq.brokerName, mq.queueId, offset]),
  );
}
