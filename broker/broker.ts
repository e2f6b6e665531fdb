import type { Registry } from 'prom-client';
import { startHttpEndpoint, type HttpEndpoint } from '../common/http';
import type { Logger } from '../common/logger';
import { createRegistry, createRemotingMetrics } from '../common/metrics';
import { RemotingClient } from '../common/net/client';
import type { RequestHandler } from '../common/net/connection';
import { RemotingServer } from '../common/net/server';
import { RequestCode, requestCodeName } from '../common/protocol/codes';
import { createRequest } from '../common/protocol/command';
import { NotifyConsumerIdsChangedRequestHeader } from '../common/protocol/headers';
import { type BrokerConfig, namesrvAddresses } from './broker-config';
import type { BrokerContext } from './broker-context';
import { ConsumerManager, type ConsumerGroupInfo } from './client/consumer-manager';
import { ProducerManager } from './client/producer-manager';
import { RebalanceLockManager } from './client/rebalance-lock-manager';
import { PullRequestHoldService } from './longpolling/pull-request-hold';
import { metadataPaths } from './metadata/config-file';
import { ConsumerOffsetManager } from './metadata/consumer-offset-manager';
import { SubscriptionGroupManager } from './metadata/subscription-group-manager';
import { TopicConfigManager } from './metadata/topic-config-manager';
import { HaService } from './ha/ha-service';
import { createBrokerMetrics, registerScrapeTimeMetrics } from './metrics';
import { BrokerStats } from './stats/broker-stats';
import { NamesrvRegistration, registeredTopics } from './namesrv-registration';
import { AdminProcessor } from './processor/admin-processor';
import { ClientManageProcessor } from './processor/client-manage-processor';
import { ConsumerManageProcessor } from './processor/consumer-manage-processor';
import { PullMessageProcessor } from './processor/pull-processor';
import { QueryMessageProcessor } from './processor/query-processor';
import { QueueOffsetProcessor } from './processor/queue-offset-processor';
import { SendMessageProcessor } from './processor/send-processor';
import { BrokerConfigProcessor } from './processor/broker-config-processor';
import { ResetOffsetProcessor } from './processor/reset-offset-processor';
import { SendBackProcessor } from './processor/send-back-processor';
import { TransactionService } from './transaction/transaction-service';
import { ScheduleMessageService } from './schedule/schedule-message-service';
import { brokerConfigUpdatesPath } from './broker-config-updates';
import type { MessageStore } from './store/message-store';
import { storePaths } from './store/store-config';

/** How often silent client connections are looked for (ClientHousekeepingService). */
const CLIENT_SCAN_INTERVAL_MS = 10_000;

/**
 * A running broker (RocketMQ BrokerController): metadata managers, the store, the remoting
 * ports (listenPort and the old clients' listenPort − 2), the request processors, client
 * housekeeping, name-server registration and the HTTP endpoint.
 */
export class Broker {
  readonly ctx: BrokerContext;
  readonly send: SendMessageProcessor;
  readonly registry: Registry;
  readonly ha: HaService;
  readonly schedule: ScheduleMessageService;
  readonly transactions: TransactionService;
  private readonly hold = new PullRequestHoldService();
  private readonly remoting: RemotingServer;
  private readonly outbound: RemotingClient;
  private readonly registration: NamesrvRegistration;
  private http?: HttpEndpoint;
  private scanTimer?: NodeJS.Timeout;
  private listenPort = 0;
  private ready = false;

  constructor(config: BrokerConfig, logger: Logger, store: MessageStore) {
    this.registry = createRegistry('broker');
    const paths = metadataPaths(storePaths(config).config);
    const topics = new TopicConfigManager(paths.topics, config, logger);
    const subscriptionGroups = new SubscriptionGroupManager(
      paths.subscriptionGroup,
      config.autoCreateSubscriptionGroup,
      logger,
    );
    this.ctx = {
      config,
      logger,
      store,
      topics,
      subscriptionGroups,
      offsets: new ConsumerOffsetManager(paths.consumerOffset, logger),
      consumers: new ConsumerManager(logger, (group) => this.notifyConsumerIdsChanged(group)),
      producers: new ProducerManager(),
      locks: new RebalanceLockManager(config.rebalanceLockMaxLiveTime),
      metrics: createBrokerMetrics(this.registry, {
        heldPulls: () => this.hold.size,
        connections: () => this.remoting.openConnections.size,
      }),
      stats: new BrokerStats(),
      storeHost: { ip: config.brokerIP1, port: config.listenPort },
      registerBroker: () => this.registration.registerAll(),
    };
    registerScrapeTimeMetrics(this.registry, this.ctx);
    this.remoting = new RemotingServer({
      logger,
      metrics: createRemotingMetrics(this.registry),
      maxFrameSize: config.frameMaxLength,
      idleTimeoutMs: config.serverChannelMaxIdleTimeSeconds * 1000,
    });
    this.outbound = new RemotingClient({ logger });
    this.registration = new NamesrvRegistration(
      this.outbound,
      () => namesrvAddresses(config),
      () => ({
        brokerName: config.brokerName,
        brokerAddr: this.brokerAddr,
        clusterName: config.brokerClusterName,
        haServerAddr: this.ha.haServerAddr,
        brokerId: config.brokerId,
        compressed: false,
        // A stale master's claim is refused by our name servers (namesrv/route-info.ts).
        haEpoch: config.enableControllerMode ? this.ha.epoch : undefined,
      }),
      () => ({
        filterServerList: [],
        topicConfigSerializeWrapper: registeredTopics(
          topics.serializeWrapper(),
          config.brokerPermission,
        ),
      }),
      logger,
      config.registerBrokerTimeoutMills,
      (masterAddr, haServerAddr) => this.ha.onRegistered(masterAddr, haServerAddr),
    );
    this.ha = new HaService(this.ctx, this.outbound, this.registry);
    this.ctx.replication = this.ha;
    this.send = new SendMessageProcessor(this.ctx);
    this.transactions = new TransactionService(this.ctx);
    this.send.preparedMessageHandler = this.transactions.putHalfMessage;
    this.schedule = new ScheduleMessageService(
      store,
      paths.delayOffset,
      config,
      logger.child({ module: 'schedule' }),
    );
    this.ctx.schedule = this.schedule;
    this.registerProcessors();
  }

  /** The advertised `brokerIP1:port` clients and name servers use. */
  get brokerAddr(): string {
    return `${this.ctx.config.brokerIP1}:${this.listenPort}`;
  }

  get port(): number {
    return this.listenPort;
  }

  get httpPort(): number {
    return this.http?.port ?? 0;
  }

  private registerProcessors(): void {
    const { ctx, remoting } = this;
    const clients = new ClientManageProcessor(ctx);
    const consumers = new ConsumerManageProcessor(ctx);
    const offsets = new QueueOffsetProcessor(ctx.store);
    const pull = new PullMessageProcessor(ctx, this.hold);
    const admin = new AdminProcessor(ctx);
    const query = new QueryMessageProcessor(ctx.store);
    const sendBack = new SendBackProcessor(ctx);
    const brokerConfig = new BrokerConfigProcessor(ctx, brokerConfigUpdatesPath(ctx.config));
    const table: [number, RequestHandler][] = [
      [RequestCode.SEND_MESSAGE, this.send.handle],
      [RequestCode.SEND_MESSAGE_V2, this.send.handle],
      [RequestCode.SEND_BATCH_MESSAGE, this.send.handle],
      [RequestCode.HEART_BEAT, clients.heartbeat],
      [RequestCode.UNREGISTER_CLIENT, clients.unregisterClient],
      [RequestCode.CHECK_CLIENT_CONFIG, clients.checkClientConfig],
      [RequestCode.GET_CONSUMER_LIST_BY_GROUP, consumers.getConsumerList],
      [RequestCode.QUERY_CONSUMER_OFFSET, consumers.queryConsumerOffset],
      [RequestCode.UPDATE_CONSUMER_OFFSET, consumers.updateConsumerOffset],
      [RequestCode.LOCK_BATCH_MQ, consumers.lockBatch],
      [RequestCode.UNLOCK_BATCH_MQ, consumers.unlockBatch],
      [RequestCode.GET_MAX_OFFSET, offsets.getMaxOffset],
      [RequestCode.GET_MIN_OFFSET, offsets.getMinOffset],
      [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, offsets.searchOffsetByTimestamp],
      [RequestCode.GET_EARLIEST_MSG_STORETIME, offsets.getEarliestMsgStoretime],
      [RequestCode.QUERY_MESSAGE, query.queryMessage],
      [RequestCode.VIEW_MESSAGE_BY_ID, query.viewMessageById],
      [RequestCode.UPDATE_AND_CREATE_TOPIC, admin.updateAndCreateTopic],
      [RequestCode.DELETE_TOPIC_IN_BROKER, admin.deleteTopic],
      [RequestCode.GET_ALL_TOPIC_CONFIG, admin.getAllTopicConfig],
      [RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, admin.updateAndCreateSubscriptionGroup],
      [RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, admin.getAllSubscriptionGroupConfig],
      [RequestCode.DELETE_SUBSCRIPTIONGROUP, admin.deleteSubscriptionGroup],
      [RequestCode.GET_BROKER_RUNTIME_INFO, admin.getBrokerRuntimeInfo],
      [RequestCode.GET_BROKER_CONFIG, brokerConfig.getBrokerConfig],
      [RequestCode.UPDATE_BROKER_CONFIG, brokerConfig.updateBrokerConfig],
      [RequestCode.CONSUMER_SEND_MSG_BACK, sendBack.handle],
      [RequestCode.END_TRANSACTION, this.transactions.endTransaction],
      [RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, new ResetOffsetProcessor(ctx).handle],
      [RequestCode.GET_TOPIC_STATS_INFO, admin.getTopicStatsInfo],
      [RequestCode.GET_CONSUME_STATS, admin.getConsumeStats],
      [RequestCode.GET_CONSUMER_CONNECTION_LIST, admin.getConsumerConnectionList],
      [RequestCode.GET_PRODUCER_CONNECTION_LIST, admin.getProducerConnectionList],
      [RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, admin.queryTopicConsumeByWho],
    ];
    for (const [code, handler] of table) remoting.register(code, this.timed(code, handler));
    for (const [code, handler] of this.ha.handlers()) remoting.register(code, handler);
    // Held pulls would swamp the latency histogram: PULL_MESSAGE is not timed.
    remoting.register(RequestCode.PULL_MESSAGE, pull.handle);
  }

  /** Registers an extra processor (delay, retry, transactions, admin plug in here). */
  register(code: number, handler: RequestHandler): void {
    this.remoting.register(code, this.timed(code, handler));
  }

  private timed(code: number, handler: RequestHandler): RequestHandler {
    // Bound once: prom-client would otherwise hash the label set on every request.
    const histogram = this.ctx.metrics.requestSeconds.labels({ code: requestCodeName(code) });
    // performance.now and one `then` per request: startTimer's hrtime pair and Object.assign
    // and `finally`'s two extra promises showed in the send path's profile.
    return (request, conn) => {
      const start = performance.now();
      const end = () => histogram.observe((performance.now() - start) / 1000);
      const result = handler(request, conn);
      if (!(result instanceof Promise)) {
        end();
        return result;
      }
      return result.then(
        (reply) => {
          end();
          return reply;
        },
        (err: unknown) => {
          end();
          throw err;
        },
      );
    };
  }

  async start(): Promise<void> {
    const { ctx } = this;
    const { config, logger } = ctx;
    await ctx.topics.load();
    await ctx.subscriptionGroups.load();
    await ctx.offsets.load();
    await ctx.store.start();
    ctx.store.onMessageArrived((topic, queueId, logicOffset, tagsCode) => {
      this.hold.notifyMessageArriving(topic, queueId, logicOffset, tagsCode);
      this.ha.server.notifyNewData();
    });
    this.remoting.onConnectionClosed((conn) => {
      ctx.consumers.connectionClosed(conn);
      ctx.producers.connectionClosed(conn);
    });

    this.listenPort = await this.remoting.listen(config.listenPort, config.bindAddress);
    ctx.storeHost.port = this.listenPort;
    // Java clients up to 4.4 send to the "VIP channel" on listenPort − 2.
    const vipPort = this.listenPort - 2;
    if (vipPort > 0) await this.remoting.listen(vipPort, config.bindAddress);
    await this.ha.start(this.listenPort);
    await this.schedule.start();
    this.transactions.start();

    ctx.offsets.start(config.flushConsumerOffsetInterval);
    ctx.stats.start();
    ctx.topics.onChanged(() => this.registration.changed());
    this.scanTimer = setInterval(() => {
      const now = Date.now();
      ctx.consumers.scanNotActive(now, config.channelExpiredTimeout);
      ctx.producers.scanNotActive(now, config.channelExpiredTimeout);
    }, CLIENT_SCAN_INTERVAL_MS);
    this.scanTimer.unref();
    this.http = await startHttpEndpoint({
      host: config.bindAddress,
      port: config.httpPort,
      registry: this.registry,
      ready: () => this.ready,
    });
    await this.registration.start(config.registerNameServerPeriod);
    this.ready = true;
    logger.info(
      {
        port: this.listenPort,
        vipPort,
        httpPort: this.http.port,
        brokerAddr: this.brokerAddr,
        brokerName: config.brokerName,
        cluster: config.brokerClusterName,
        namesrvAddr: config.namesrvAddr,
      },
      'broker started',
    );
  }

  /** Unregisters, closes the ports, persists metadata and shuts the store down. */
  async stop(): Promise<void> {
    const { ctx } = this;
    this.ready = false;
    clearInterval(this.scanTimer);
    ctx.stats.stop();
    await this.registration.stop();
    this.outbound.close();
    this.hold.releaseAll();
    await this.remoting.close();
    await this.schedule.stop();
    await this.transactions.stop();
    await this.ha.stop();
    await ctx.offsets.stop();
    await ctx.topics.flush();
    await ctx.subscriptionGroups.flush();
    await ctx.store.shutdown();
    await this.http?.close();
    ctx.logger.info('broker stopped');
  }

  /** NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every member of a group whose membership changed. */
  private notifyConsumerIdsChanged(group: ConsumerGroupInfo): void {
    if (!this.ctx.config.notifyConsumerIdsChangedEnable) return;
    const groupConfig = this.ctx.subscriptionGroups.get(group.groupName);
    if (groupConfig && !groupConfig.notifyConsumerIdsChangedEnable) return;
    const request = createRequest(
      RequestCode.NOTIFY_CONSUMER_IDS_CHANGED,
      NotifyConsumerIdsChangedRequestHeader.encode({ consumerGroup: group.groupName }),
    );
    for (const channel of group.channels.values()) channel.connection.invokeOneway(request);
  }
}
