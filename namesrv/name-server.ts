import { Gauge } from 'prom-client';
import type { Logger } from '../common/logger';
import { createRegistry, createRemotingMetrics } from '../common/metrics';
import { startHttpEndpoint, type HttpEndpoint } from '../common/http';
import { Connection } from '../common/net/connection';
import { RemotingServer } from '../common/net/server';
import type { NamesrvConfig } from './config';
import { KVConfigManager } from './kv-config';
import { registerNamesrvHandlers } from './processor';
import { RouteInfoManager } from './route-info';

/**
 * A running name server: the remoting port, the HTTP port, and the housekeeping that drops
 * brokers whose connection closed or that stopped registering. Name servers never talk to
 * each other; run as many as you like.
 */
export class NameServer {
  readonly routes = new RouteInfoManager();
  private remoting?: RemotingServer;
  private http?: HttpEndpoint;
  private scanTimer?: NodeJS.Timeout;
  private listenPort = 0;

  constructor(
    private readonly config: NamesrvConfig,
    private readonly logger: Logger,
  ) {}

  /** The remoting port actually bound (differs from the config when it asked for 0). */
  get port(): number {
    return this.listenPort;
  }

  get httpPort(): number {
    return this.http?.port ?? 0;
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    const registry = createRegistry('namesrv');
    const kv = new KVConfigManager(config.kvConfigPath, logger);
    await kv.load();

    this.remoting = new RemotingServer({
      logger,
      metrics: createRemotingMetrics(registry),
      maxFrameSize: config.frameMaxLength,
      idleTimeoutMs: config.serverChannelMaxIdleTimeSeconds * 1000,
    });
    registerNamesrvHandlers(this.remoting, {
      routes: this.routes,
      kv,
      logger,
      orderMessageEnable: config.orderMessageEnable,
      now: Date.now,
    });
    this.remoting.onConnectionClosed((conn) => {
      for (const addr of this.routes.onChannelDestroy(conn)) {
        logger.info(
          { brokerAddr: addr, remote: conn.remoteAddress },
          'broker connection closed, broker removed',
        );
      }
    });
    const routes = this.routes;
    new Gauge({
      name: 'rmqts_namesrv_live_brokers',
      help: 'Brokers currently registered and alive',
      registers: [registry],
      collect() {
        this.set(routes.liveBrokerCount);
      },
    });
    new Gauge({
      name: 'rmqts_namesrv_topics',
      help: 'Topics with at least one live broker group',
      registers: [registry],
      collect() {
        this.set(routes.getAllTopics().length);
      },
    });

    this.listenPort = await this.remoting.listen(config.listenPort, config.bindAddress);
    this.http = await startHttpEndpoint({
      host: config.bindAddress,
      port: config.httpPort,
      registry,
      ready: () => this.remoting !== undefined,
    });
    this.scanTimer = setInterval(() => {
      const expired = this.routes.scanNotActiveBrokers(Date.now(), config.brokerChannelExpiredTime);
      for (const { brokerAddr, channel } of expired) {
        logger.warn({ brokerAddr }, 'broker expired: no registration within the expiry time');
        // A broker that stopped registering but kept its connection is hung or cut off: close
        // the connection, as Java does, so it reconnects and registers afresh if it can.
        if (channel instanceof Connection) channel.close();
      }
    }, config.scanNotActiveBrokerInterval);
    logger.info({ port: this.listenPort, httpPort: this.http.port }, 'name server started');
  }

  async stop(): Promise<void> {
    clearInterval(this.scanTimer);
    await this.remoting?.close();
    await this.http?.close();
    this.remoting = undefined;
    this.logger.info('name server stopped');
  }
}
