import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * NameServer settings with RocketMQ's key names and defaults (NamesrvConfig,
 * NettyServerConfig); set in `namesrv.conf`, `RMQ_*` environment variables or `--key=value`.
 */
export function defaultNamesrvConfig() {
  return {
    listenPort: 9876,
    bindAddress: '0.0.0.0',
    /** HTTP port for /metrics, /healthz and /readyz; 0 picks a free one. */
    httpPort: 9880,
    kvConfigPath: join(homedir(), 'namesrv', 'kvConfig.json'),
    /** Serve `orderTopicConf` from the KV namespace ORDER_TOPIC_CONFIG. */
    orderMessageEnable: false,
    /** How often brokers that stopped registering are looked for. */
    scanNotActiveBrokerInterval: 10_000,
    /** A broker that has not registered for this long is dropped (BROKER_CHANNEL_EXPIRED_TIME). */
    brokerChannelExpiredTime: 120_000,
    serverChannelMaxIdleTimeSeconds: 120,
    /** Largest accepted frame, length prefix included (`com.rocketmq.remoting.frameMaxLength`). */
    frameMaxLength: 16 * 1024 * 1024,
  };
}

export type NamesrvConfig = ReturnType<typeof defaultNamesrvConfig>;
