import { setFlagsFromString } from 'node:v8';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { defaultNamesrvConfig } from '../namesrv/config';
import { NameServer } from '../namesrv/name-server';
import type { ParsedArgs } from './args';
import { runUntilSignal } from './lifecycle';

/** `rocketmq-ts namesrv [-c namesrv.conf] [--listenPort=9876] …` */
export async function runNamesrv(args: ParsedArgs): Promise<void> {
  // A name server at rest is ~60 MiB (Node, express, pino, prom-client) and must stay under
  // 100 MiB however busy it gets. Under load V8 doubles the young generation up to 2 × 16 MiB
  // and lets the old generation run far ahead of what is live; that alone went past 110 MiB
  // in the fuzz test. Heap sizes are fixed at process start, but these two flags are read as
  // the heap grows: the young generation keeps its initial size, and the old one grows in
  // small steps. A registry this small loses little speed by it.
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--optimize-for-size');
  const logger = createLogger('namesrv');
  const { config, unknownKeys } = loadConfig(defaultNamesrvConfig(), {
    file: args.short.get('c'),
    env: process.env,
    flags: args.long,
  });
  if (unknownKeys.length > 0) logger.warn({ unknownKeys }, 'ignoring unknown config keys');
  const server = new NameServer(config, logger);
  await server.start();
  await runUntilSignal(logger, () => server.stop());
}
