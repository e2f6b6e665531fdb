/** Admin verbs about clusters, brokers and topics. */
import type { AdminClient } from '../client/admin-client';
import { Perm } from '../common/protocol/bodies';
import type { AdminCommand, AdminContext } from './admin-context';
import { UsageError } from './args';
import { formatTable } from './table';

/** The first of the three space-separated TPS figures (10 s average). */
const tps10 = (value: string | undefined): string =>
  value ? Number(value.split(' ')[0]).toFixed(2) : '-';

/** Broker addresses an admin verb targets: `-b <addr>` or every master of `-c <cluster>`. */
async function targetBrokers(ctx: AdminContext): Promise<string[]> {
  const broker = ctx.optional('b');
  if (broker) return [broker];
  const cluster = ctx.optional('c');
  if (cluster) return ctx.admin.clusterMasterAddrs(cluster);
  throw new UsageError('give -b <brokerAddr> or -c <clusterName>');
}

async function runtimeOrUndefined(
  admin: AdminClient,
  addr: string,
): Promise<Record<string, string> | undefined> {
  return admin.brokerRuntimeInfo(addr).catch(() => undefined);
}

export const clusterCommands: Record<string, AdminCommand> = {
  clusterList: {
    usage: 'clusterList -n <namesrv>',
    run: async ({ admin }) => {
      const info = await admin.clusterInfo();
      const rows: string[][] = [];
      for (const [cluster, brokerNames] of Object.entries(info.clusterAddrTable)) {
        for (const brokerName of [...brokerNames].sort()) {
          const addrs = info.brokerAddrTable[brokerName]?.brokerAddrs ?? {};
          for (const [id, addr] of Object.entries(addrs)) {
            const runtime = await runtimeOrUndefined(admin, addr);
            rows.push([
              cluster,
              brokerName,
              id,
              addr,
              runtime?.brokerVersionDesc ?? '-',
              tps10(runtime?.putTps),
              tps10(runtime?.getTransferedTps ?? runtime?.getTransferredTps),
            ]);
          }
        }
      }
      return formatTable(
        ['#Cluster Name', '#Broker Name', '#BID', '#Addr', '#Version', '#InTPS', '#OutTPS'],
        rows,
      );
    },
  },
  topicList: {
    usage: 'topicList -n <namesrv> [-c <cluster>]',
    run: async (ctx) => (await ctx.admin.topicList(ctx.optional('c'))).sort().join('\n'),
  },
  topicRoute: {
    usage: 'topicRoute -n <namesrv> -t <topic>',
    run: async (ctx) =>
      JSON.stringify(await ctx.admin.topicRoute(ctx.option('t', 'topic')), null, 2),
  },
  updateTopic: {
    usage:
      'updateTopic -n <namesrv> -t <topic> (-c <cluster> | -b <brokerAddr>) [-r <readQueueNums>] [-w <writeQueueNums>] [-p <perm>] [-o <order true|false>]',
    run: async (ctx) => {
      const topic = ctx.option('t', 'topic');
      const settings = {
        topic,
        readQueueNums: Number(ctx.optional('r') ?? 8),
        writeQueueNums: Number(ctx.optional('w') ?? 8),
        perm: Number(ctx.optional('p') ?? Perm.READ | Perm.WRITE),
        order: ctx.optional('o') === 'true',
      };
      for (const n of [settings.readQueueNums, settings.writeQueueNums, settings.perm]) {
        if (!Number.isInteger(n) || n < 0) throw new UsageError(`not a valid number: ${n}`);
      }
      const lines: string[] = [];
      for (const addr of await targetBrokers(ctx)) {
        await ctx.admin.createTopic(addr, settings);
        lines.push(`create topic to ${addr} success.`);
      }
      lines.push(
        `TopicConfig [topicName=${topic}, readQueueNums=${settings.readQueueNums}, ` +
          `writeQueueNums=${settings.writeQueueNums}, perm=${settings.perm}, ` +
          `topicFilterType=SINGLE_TAG, topicSysFlag=0, order=${settings.order}]`,
      );
      return lines.join('\n');
    },
  },
  deleteTopic: {
    usage: 'deleteTopic -n <namesrv> -t <topic> -c <cluster>',
    run: async (ctx) => {
      const topic = ctx.option('t', 'topic');
      const cluster = ctx.option('c', 'clusterName');
      await ctx.admin.deleteTopic(topic, await ctx.admin.clusterMasterAddrs(cluster), cluster);
      return `delete topic [${topic}] from cluster [${cluster}] success.\ndelete topic [${topic}] from NameServer success.`;
    },
  },
  topicStatus: {
    usage: 'topicStatus -n <namesrv> -t <topic>',
    run: async (ctx) => {
      const stats = await ctx.admin.topicStats(ctx.option('t', 'topic'));
      const rows = [...stats.offsetTable]
        .sort(([a], [b]) =>
          a.brokerName === b.brokerName
            ? a.queueId - b.queueId
            : a.brokerName < b.brokerName
              ? -1
              : 1,
        )
        .map(([mq, o]) => [
          mq.brokerName,
          mq.queueId,
          o.minOffset,
          o.maxOffset,
          o.lastUpdateTimestamp > 0 ? new Date(o.lastUpdateTimestamp).toISOString() : '',
        ]);
      return formatTable(
        ['#Broker Name', '#QID', '#Min Offset', '#Max Offset', '#Last Updated'],
        rows,
      );
    },
  },
  brokerStatus: {
    usage: 'brokerStatus -n <namesrv> (-b <brokerAddr> | -c <cluster>)',
    run: async (ctx) => {
      const out: string[] = [];
      const targets = await targetBrokers(ctx);
      for (const addr of targets) {
        const table = await ctx.admin.brokerRuntimeInfo(addr);
        for (const key of Object.keys(table).sort()) {
          out.push(`${targets.length > 1 ? `${addr} ` : ''}${key.padEnd(32)}: ${table[key]}`);
        }
      }
      return out.join('\n');
    },
  },
};
