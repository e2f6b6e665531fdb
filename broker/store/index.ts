/**
 * The storage engine's entry point: the broker builds its store with {@link createMessageStore}
 * and codes against the {@link MessageStore} interface only.
 */
import type { Logger } from 'pino';
import { DefaultMessageStore } from './default-message-store';
import type { MessageStore } from './message-store';
import type { StoreConfig } from './store-config';
import { nodeStoreIO, type StoreIO } from './store-io';

export type {
  GetMessageRequest,
  GetMessageResult,
  MessageFilter,
  MessageStore,
  QueryMessageResult,
} from './message-store';
export {
  type MessageArrivedListener,
  type MessageToStore,
  PutMessageResult,
} from './message-types';
export { GetMessageStatus, PutMessageStatus, isStored } from './status';
export {
  type BrokerRole,
  type FlushDiskType,
  type StoreConfig,
  StoreError,
  defaultStoreConfig,
  storePaths,
} from './store-config';
export { type DiskUsage, type StoreIO, nodeStoreIO } from './store-io';

/**
 * A message store over `config` (`defaultStoreConfig()` overridden by broker.conf keys); `io`
 * replaces the file-system calls (tests inject failures through it). Throws StoreError for an
 * invalid config; call `start()` to load and recover.
 */
export function createMessageStore(
  config: StoreConfig,
  options: { logger: Logger; io?: StoreIO },
): MessageStore {
  return new DefaultMessageStore(config, options.io ?? nodeStoreIO, options.logger);
}
