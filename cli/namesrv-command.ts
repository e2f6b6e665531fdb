import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { defaultNamesrvConfig } from '../namesrv/config';
import { NameServer } from '../namesrv/name-server';
import type { ParsedArgs } from './args';
import { runUntilSignal } from './lifecycle';

/** `rocketmq-ts namesrv [-c namesrv.conf] [--listenPort=9876] …` */
export async function runNamesrv(args: ParsedArgs): Promise<void> {
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
