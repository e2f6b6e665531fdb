import { AdminClient } from '../client/admin-client';
import { createLogger } from '../common/logger';
import { clusterCommands } from './admin-cluster';
import type { AdminCommand, AdminContext } from './admin-context';
import { consumerCommands } from './admin-consumer';
import { messageCommands } from './admin-message';
import { offsetCommands } from './admin-offset';
import { traceCommands } from './admin-trace';
import { UsageError, type ParsedArgs } from './args';
import { formatTable } from './table';

/** Name-server-only verbs: write permission and KV config. */
const namesrvCommands: Record<string, AdminCommand> = {
  wipeWritePerm: {
    usage: 'wipeWritePerm -n <namesrv> -b <brokerName>',
    run: async (ctx) => {
      const brokerName = ctx.option('b', 'brokerName');
      const lines = [];
      for (const addr of ctx.admin.namesrvAddrs) {
        const count = await ctx.admin.namesrv.wipeWritePerm(addr, brokerName);
        lines.push(`wipe write perm of broker[${brokerName}] in name server[${addr}] OK, ${count}`);
      }
      return lines.join('\n');
    },
  },
  addWritePerm: {
    usage: 'addWritePerm -n <namesrv> -b <brokerName>',
    run: async (ctx) => {
      const brokerName = ctx.option('b', 'brokerName');
      const lines = [];
      for (const addr of ctx.admin.namesrvAddrs) {
        const count = await ctx.admin.namesrv.addWritePerm(addr, brokerName);
        lines.push(`add write perm of broker[${brokerName}] in name server[${addr}] OK, ${count}`);
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
      for (const addr of ctx.admin.namesrvAddrs) {
        await ctx.admin.namesrv.putKVConfig(addr, ns, key, value);
      }
      return 'update kv config in namespace success.';
    },
  },
  getKvConfig: {
    usage: 'getKvConfig -n <namesrv> -s <namespace> [-k <key>]',
    run: async (ctx) => {
      const ns = ctx.option('s', 'namespace');
      const key = ctx.optional('k');
      const { admin } = ctx;
      if (key) {
        const value = await admin.onAnyNamesrv((a) => admin.namesrv.getKVConfig(a, ns, key));
        return value ?? `No config item, Namespace: ${ns} Key: ${key}`;
      }
      const table = await admin.onAnyNamesrv((a) => admin.namesrv.getKVList(a, ns));
      return formatTable(['#Key', '#Value'], Object.entries(table));
    },
  },
  deleteKvConfig: {
    usage: 'deleteKvConfig -n <namesrv> -s <namespace> -k <key>',
    run: async (ctx) => {
      const [ns, key] = [ctx.option('s', 'namespace'), ctx.option('k', 'key')];
      for (const addr of ctx.admin.namesrvAddrs) {
        await ctx.admin.namesrv.deleteKVConfig(addr, ns, key);
      }
      return 'delete kv config from namespace success.';
    },
  },
};

const commands: Record<string, AdminCommand> = {
  ...clusterCommands,
  ...namesrvCommands,
  ...consumerCommands,
  ...messageCommands,
  ...offsetCommands,
  ...traceCommands,
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
  if (!command) {
    throw new UsageError(`unknown admin command "${verb ?? ''}"; commands:\n${adminUsage()}`);
  }
  const admin = new AdminClient({
    namesrvAddr: args.short.get('n') ?? process.env.NAMESRV_ADDR ?? '127.0.0.1:9876',
    logger: createLogger('admin', process.env.LOG_LEVEL ?? 'warn'),
  });
  const ctx: AdminContext = {
    args,
    admin,
    option(letter, name) {
      const value = args.short.get(letter);
      if (value === undefined) {
        throw new UsageError(
          `missing -${letter} <${name}>; usage: rocketmq-ts admin ${command.usage}`,
        );
      }
      return value;
    },
    optional: (letter) => args.short.get(letter),
  };
  try {
    process.stdout.write(`${await command.run(ctx)}\n`);
  } finally {
    admin.close();
  }
}
