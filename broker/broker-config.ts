import { hostname, networkInterfaces } from 'node:os';
import { defaultStoreConfig, type StoreConfig } from './store/store-config';

/**
 * Broker settings with RocketMQ's key names and defaults (BrokerConfig, NettyServerConfig,
 * MessageStoreConfig), so an existing `broker.conf` works as it is. The store's keys
 * (`storePathRootDir`, `flushDiskType`, `fileReservedTime`, `maxMessageSize`, `messageDelayLevel`,
 * …) are part of the same flat key space and are handed to the store unchanged.
 */
export function defaultBrokerOwnConfig() {
  return {
    brokerClusterName: 'DefaultCluster',
    brokerName: hostname(),
    /** 0 = master, > 0 = slave. */
    brokerId: 0,
    /** `;`-separated name server addresses; falls back to the NAMESRV_ADDR environment variable. */
    namesrvAddr: '',
    listenPort: 10911,
    /** The address clients and name servers are told; defaults to the first non-internal IPv4. */
    brokerIP1: '',
    /** Interface the sockets bind to (not in RocketMQ's broker.conf; 0.0.0.0 = all). */
    bindAddress: '0.0.0.0',
    /** HTTP port for /metrics, /healthz and /readyz (not in RocketMQ); 0 picks a free one. */
    httpPort: 10920,
    /** HA port advertised to the name server (listenPort + 1 when 0). */
    haListenPort: 0,
    /** A slave's fixed master HA address; when empty it is learned from the name server. */
    haMasterAddress: '',
    /** SYNC_MASTER: how long a put waits for a slave before FLUSH_SLAVE_TIMEOUT (4.9.3+). */
    slaveTimeout: 3000,
    /** Pulls may be steered to a slave (suggestWhichBrokerId, broker-internals.md §5.6). */
    slaveReadEnable: false,
    /** Start fenced and take the role from a failover controller (HA_BECOME_* requests). */
    enableControllerMode: false,
    brokerPermission: 6,
    autoCreateTopicEnable: true,
    autoCreateSubscriptionGroup: true,
    defaultTopicQueueNums: 8,
    clusterTopicEnable: true,
    brokerTopicEnable: true,
    traceTopicEnable: false,
    msgTraceTopicName: 'RMQ_SYS_TRACE_TOPIC',
    /** Refuse messages marked TRAN_MSG (half messages of transactions). */
    rejectTransactionMessage: false,
    /** A half message without an outcome is checked back once it is this old (ms). */
    transactionTimeOut: 6000,
    /** How often the master looks for half messages to check back (4.x default, ms). */
    transactionCheckInterval: 60_000,
    /** Check-backs per half message before it is rolled back. */
    transactionCheckMax: 15,
    notifyConsumerIdsChangedEnable: true,
    /** Serve SQL92 subscriptions (off by default, as in RocketMQ). */
    enablePropertyFilter: false,
    longPollingEnable: true,
    shortPollingTimeMills: 1000,
    registerNameServerPeriod: 30_000,
    registerBrokerTimeoutMills: 6000,
    flushConsumerOffsetInterval: 5000,
    /** How often the delay levels' progress is written to delayOffset.json. */
    flushDelayOffsetInterval: 10_000,
    /** A client silent this long (no heartbeat) is dropped (RocketMQ hard-codes 120 s). */
    channelExpiredTimeout: 120_000,
    /** An orderly-consumption queue lock expires after this long without renewal. */
    rebalanceLockMaxLiveTime: 60_000,
    serverChannelMaxIdleTimeSeconds: 120,
    /** Largest accepted frame, length prefix included. */
    frameMaxLength: 16 * 1024 * 1024,
    regionId: 'DefaultRegion',
    traceOn: true,
  };
}

export type BrokerOwnConfig = ReturnType<typeof defaultBrokerOwnConfig>;
export type BrokerConfig = BrokerOwnConfig & StoreConfig;

export function defaultBrokerConfig(): BrokerConfig {
  return { ...defaultStoreConfig(), ...defaultBrokerOwnConfig() };
}

/** The store's slice of a broker config (every StoreConfig key, same names). */
export function storeConfigOf(config: BrokerConfig): StoreConfig {
  const store = defaultStoreConfig();
  for (const key of Object.keys(store)) store[key] = config[key];
  return store;
}

/** Fills the values that default to something computed: brokerIP1 and namesrvAddr. */
export function resolveBrokerConfig(
  config: BrokerConfig,
  env: NodeJS.ProcessEnv = process.env,
): BrokerConfig {
  return {
    ...config,
    brokerIP1: config.brokerIP1 || firstExternalIPv4(),
    namesrvAddr: config.namesrvAddr || env.NAMESRV_ADDR || '',
  };
}

function firstExternalIPv4(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}

/** The name server addresses of `namesrvAddr`. */
export function namesrvAddresses(config: Pick<BrokerOwnConfig, 'namesrvAddr'>): string[] {
  return config.namesrvAddr
    .split(';')
    .map((a) => a.trim())
    .filter((a) => a !== '');
}
