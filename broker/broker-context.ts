import type { Logger } from '../common/logger';
import type { HostAddress } from '../common/message/host';
import type { BrokerConfig } from './broker-config';
import type { ConsumerManager } from './client/consumer-manager';
import type { ProducerManager } from './client/producer-manager';
import type { RebalanceLockManager } from './client/rebalance-lock-manager';
import type { ConsumerOffsetManager } from './metadata/consumer-offset-manager';
import type { SubscriptionGroupManager } from './metadata/subscription-group-manager';
import type { TopicConfigManager } from './metadata/topic-config-manager';
import type { BrokerMetrics } from './metrics';
import type { BrokerStats } from './stats/broker-stats';
import type { MessageStore } from './store/message-store';
import type { PutMessageStatus } from './store/status';

export interface ReplicationGate {
  /** PUT_OK once a slave has the CommitLog up to `end`, else the SYNC_MASTER failure (§5.4). */
  waitForReplication(end: number): Promise<PutMessageStatus>;
}

/** What the request processors share: configuration, metadata, client tables and the store. */
export interface BrokerContext {
  config: BrokerConfig;
  logger: Logger;
  store: MessageStore;
  topics: TopicConfigManager;
  subscriptionGroups: SubscriptionGroupManager;
  offsets: ConsumerOffsetManager;
  consumers: ConsumerManager;
  producers: ProducerManager;
  locks: RebalanceLockManager;
  metrics: BrokerMetrics;
  stats: BrokerStats;
  /** The advertised `brokerIP1:listenPort`, written into every record as STOREHOST. */
  storeHost: HostAddress;
  /** Registers with every name server now (admin changes wait for it, as Java's do). */
  registerBroker(): Promise<void>;
  /** Replication (broker/ha): SYNC_MASTER puts wait here for a slave to have their bytes. */
  replication?: ReplicationGate;
  /** Delay-level progress for GET_BROKER_RUNTIME_INFO (broker/schedule). */
  schedule?: { runtimeInfo(): Record<string, string> };
}
