#!/usr/bin/env node
import { parseArgs, UsageError } from './args';

/** The help text; loads the admin module for its own usage lines. */
async function usage(): Promise<string> {
  const { adminUsage } = await import('./admin.js');
  return `rocketmq-ts — a RocketMQ-compatible message queue and its Kubernetes operator

Usage:
  rocketmq-ts dev [--dataDir=./data] [--namesrvPort=9876]   a local cluster (Ctrl-C stops it)
  rocketmq-ts namesrv [-c namesrv.conf] [--key=value …]      a name server
  rocketmq-ts broker [-c broker.conf] [--key=value …]        a broker
  rocketmq-ts operator [--watchNamespace=ns] [--httpPort=8080] [--kubeconfig=path]
                                                             the Kubernetes operator
  rocketmq-ts admin <command> [options]                      administration, mqadmin style:
${adminUsage()}
  rocketmq-ts bench -n <namesrv> [-t topic] [--mode=async|sync|oneway] [--producers=1]
        [--window=128] [--batchSize=1] [--size=1024] [--duration=60 | --count=N]
        [--consumers=0] [-g group] [-c cluster] [--queues=8]     load test: TPS and RT
`;
}

/**
 * Each verb's module is loaded only when that verb runs: the operator's Kubernetes client alone
 * costs a namesrv more than half its memory budget.
 */
async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  const args = parseArgs(rest);
  switch (verb) {
    case 'dev':
      return (await import('./dev.js')).runDev(args);
    case 'namesrv':
      return (await import('./namesrv-command.js')).runNamesrv(args);
    case 'broker':
      return (await import('./broker-command.js')).runBroker(args);
    case 'admin':
      return (await import('./admin.js')).runAdmin(args);
    case 'operator':
      return (await import('./operator-command.js')).runOperator(args);
    case 'bench':
      return (await import('./bench-command.js')).runBench(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(await usage());
      return;
    default:
      throw new UsageError(`unknown command "${verb}"`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  async (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${await usage()}`);
      process.exit(2);
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
