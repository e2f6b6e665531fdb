import { NamesrvClient } from '../client/namesrv-client';
import { createLogger } from '../common/logger';
import { RemotingClient } from '../common/net/client';
import { UsageError, type ParsedArgs } from './args';
import { formatTable } from './table';

type AdminCommand = (ctx: AdminContext) => Promise<string>;

interface AdminContext {
  args: ParsedArgs;
  namesrv: NamesrvClient;
  /** The name server addresses from `-n` or NAMESRV_ADDR, `;`-separated as in RocketMQ. */
  namesrvAddrs: string[];
  option(letter: string, name: string): string;
}

/** Asks each name server in turn until one answers. */
async function onAnyNamesrv<T>(ctx: AdminContext, call: (addr: string) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (const addr of ctx.namesrvAddrs) {
    try {
      return await call(addr);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

const commands: Record<string, { usage: string; run: AdminCommand }> = {
  clusterList: {
    usage: 'clusterList -n <namesrv>',
    run: async (ctx) => {
      const info = await onAnyNamesrv(ctx, (a) => ctx.namesrv.getClusterInfo(a));
      const rows: string[][] = [];
      for (const [cluster, brokerNames] of Object.entries(info.clusterAddrTable)) {
        for (const brokerName of [...brokerNames].sort()) {
          const addrs = info.brokerAddrTable[brokerName]?.brokerAddrs ?? {};
          for (const [id, addr] of Object.entries(addrs))
            rows.push([cluster, brokerName, id, addr]);
        }
      }
      return formatTable(['#Cluster Name', '#Broker Name', '#BID', '#Addr'], rows);
    },
  },
  topicList: {
    usage: 'topicList -n <namesrv> [-c <cluster>]',
    run: async (ctx) => {
      const cluster = ctx.args.short.get('c');
      const topics = await onAnyNamesrv(ctx, (a) =>
        cluster ? ctx.namesrv.getTopicsByCluster(a, cluster) : ctx.namesrv.getAllTopics(a),
      );
      return topics.sort().join('\n');
    },
  },
  topicRoute: {
    usage: 'topicRoute -n <namesrv> -t <topic>',
    run: async (ctx) => {
      const topic = ctx.option('t', 'topic');
      const route = await onAnyNamesrv(ctx, (a) => ctx.namesrv.getRouteInfo(a, topic));
      if (!route) throw new Error(`No topic route info in name server for the topic: ${topic}`);
      return JSON.stringify(route, null, 2);
    },
  },
  wipeWritePerm: {
    usage: 'wipeWritePerm -n <namesrv> -b <brokerName>',
    run: async (ctx) => {
      const brokerName = ctx.option('b', 'brokerName');
      const lines = [];
      for (const addr of ctx.namesrvAddrs) {
        lines.push(
          `wipe write perm of broker[${brokerName}] in name server[${addr}] OK, ${await ctx.namesrv.wipeWritePerm(addr, brokerName)}`,
        );
      }
      return lines.join('\n');
    },
  },
  addWritePerm: {
    usage: 'addWritePerm -n <namesrv> -b <brokerName>',
    run: async (ctx) => {
      const brokerName = ctx.option('b', 'brokerName');
      const lines = [];
      for (const addr of ctx.namesrvAddrs) {
        lines.push(
          `add write perm of broker[${brokerName}] in name server[${addr}] OK, ${await ctx.namesrv.addWritePerm(addr, brokerName)}`,
        );
      }
      return lines.join('\n');
    },
  },
  updateKvConfig: {
    usage: 'updateKvConfig -n <namesrv> -s <namespace> -k <key> -v <value>',
    run: async (ctx) => {
      const [ns, key, value] = [
        ctx.option('s', 'namespace'),
        ctx.option('k', 'key'),
        ctx.option('v', 'value'),
      ];
      for (const addr of ctx.namesrvAddrs) await ctx.namesrv.putKVConfig(addr, ns, key, value);
      return 'update kv config in namespace success.';
    },
  },
  getKvConfig: {
    usage: 'getKvConfig -n <namesrv> -s <namespace> [-k <key>]',
    run: async (ctx) => {
      const ns = ctx.option('s', 'namespace');
      const key = ctx.args.short.get('k');
      if (key) {
        const value = await onAnyNamesrv(ctx, (a) => ctx.namesrv.getKVConfig(a, ns, key));
        return value ?? `No config item, Namespace: ${ns} Key: ${key}`;
      }
      const table = await onAnyNamesrv(ctx, (a) => ctx.namesrv.getKVList(a, ns));
      return formatTable(['#Key', '#Value'], Object.entries(table));
    },
  },
  deleteKvConfig: {
    usage: 'deleteKvConfig -n <namesrv> -s <namespace> -k <key>',
    run: async (ctx) => {
      const [ns, key] = [ctx.option('s', 'namespace'), ctx.option('k', 'key')];
      for (const addr of ctx.namesrvAddrs) await ctx.namesrv.deleteKVConfig(addr, ns, key);
      return 'delete kv config from namespace success.';
    },
  },
};

export function adminUsage(): string {
  return Object.values(commands)
    .map((c) => `  rocketmq-ts admin ${c.usage}`)
    .join('\n');
}

/** `rocketmq-ts admin <verb> …` — mqadmin's verbs and options; prints the result. */
export async function runAdmin(args: ParsedArgs): Promise<void> {
  const [verb] = args.positionals;
  const command = verb ? commands[verb] : undefined;
  if (!command)
    throw new UsageError(`unknown admin command "${verb ?? ''}"; commands:\n${adminUsage()}`);
  const namesrvAddrs = (args.short.get('n') ?? process.env.NAMESRV_ADDR ?? '127.0.0.1:9876')
    .split(';')
    .map((a) => a.trim())
    .filter(Boolean);
  const remoting = new RemotingClient({
    logger: createLogger('admin', process.env.LOG_LEVEL ?? 'warn'),
  });
  try {
    const output = await command.run({
      args,
      namesrv: new NamesrvClient(remoting),
      namesrvAddrs,
      option(letter, name) {
        const value = args.short.get(letter);
        if (value === undefined)
          throw new UsageError(
            `missing -${letter} <${name}>; usage: rocketmq-ts admin ${command.usage}`,
          );
        return value;
      },
    });
    process.stdout.write(`${output}\n`);
  } finally {
    remoting.close();
  }
}
