import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { Broker } from '../broker/broker';
import { defaultBrokerConfig, resolveBrokerConfig, storeConfigOf } from '../broker/broker-config';
import { createMessageStore } from '../broker/store';
import { brokerConfigUpdatesPath, readBrokerConfigUpdates } from '../broker/broker-config-updates';
import type { ParsedArgs } from './args';
import { runUntilSignal } from './lifecycle';

/** `rocketmq-ts broker [-c broker.conf] [--brokerName=broker-a] …` */
export async function runBroker(args: ParsedArgs): Promise<void> {
  const logger = createLogger('broker');
  const sources = { file: args.short.get('c'), env: process.env, flags: args.long };
  // Settings changed at run time (UPDATE_BROKER_CONFIG) apply over the file, under the flags.
  const updates = readBrokerConfigUpdates(
    brokerConfigUpdatesPath(loadConfig(defaultBrokerConfig(), sources).config),
  );
  const loaded = loadConfig(defaultBrokerConfig(), {
    ...sources,
    flags: new Map([...updates, ...args.long]),
  });
  if (loaded.unknownKeys.length > 0) {
    logger.warn({ unknownKeys: loaded.unknownKeys }, 'ignoring unknown config keys');
  }
  const config = resolveBrokerConfig(loaded.config);
  const store = createMessageStore(storeConfigOf(config), {
    logger: logger.child({ module: 'store' }),
  });
  const broker = new Broker(config, logger, store);
  await broker.start();
  await runUntilSignal(logger, () => broker.stop());
}
