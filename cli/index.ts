#!/usr/bin/env node
import { adminUsage, runAdmin } from './admin';
import { parseArgs, UsageError } from './args';
import { runDev } from './dev';
import { runNamesrv } from './namesrv-command';

const USAGE = `rocketmq-ts — a RocketMQ-compatible message queue and its Kubernetes operator

Usage:
  rocketmq-ts dev [--dataDir=./data] [--namesrvPort=9876]   a local cluster (Ctrl-C stops it)
  rocketmq-ts namesrv [-c namesrv.conf] [--key=value …]      a name server
  rocketmq-ts admin <command> [options]                      administration, mqadmin style:
${adminUsage()}
`;

async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  const args = parseArgs(rest);
  switch (verb) {
    case 'dev':
      return runDev(args);
    case 'namesrv':
      return runNamesrv(args);
    case 'admin':
      return runAdmin(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${verb}"`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
