/**
 * What every producer and consumer shares with the cluster: a client id, a pooled remoting
 * client, the route cache (polled every 30 s), heartbeats to the brokers (every 30 s), and the
 * dispatch of requests brokers send us (remoting.md §3.8).
 */
import { hrtime } from 'node:process';
import { localIPv4 } from '../common/message/message-id';
import { createLogger, type Logger } from '../common/logger';
import { RemotingClient } from '../common/net/client';
import type { Connection } from '../common/net/connection';
import type { ConsumerData, HeartbeatData } from '../common/protocol/broker-bodies';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../common/protocol/command';
import { ResponseCode, requestCodeName } from '../common/protocol/codes';
import { BrokerApi } from './broker-api';
import { NamesrvClient } from './namesrv-client';
import { RouteCache } from './route-cache';

export interface ClientOptions {
  /** Name server addresses, `;`-separated as in RocketMQ, or a list. */
  namesrvAddr: string | readonly string[];
  /** Part of the client id; default `<pid>#<nanotime>`, so every instance is distinct. */
  instanceName?: string;
  logger?: Logger;
  /** Route refresh interval; default 30 000 ms. */
  pollNameServerIntervalMs?: number;
  /** Heartbeat interval; default 30 000 ms. */
  heartbeatBrokerIntervalMs?: number;
  /** Timeout of ordinary requests; default 3000 ms. */
  requestTimeoutMs?: number;
}

/** A producer or consumer registered with a client instance. */
export interface ClientMember {
  /** Topics whose routes the instance keeps fresh. */
  topics(): Iterable<string>;
  producerGroup?: string;
  consumerData?(): ConsumerData;
  /** Consumers heartbeat every broker (masters and slaves); producers only masters. */
  readonly isConsumer: boolean;
}

type ServerRequestHandler = (
  request: RemotingCommand,
  /** The broker's connection the request came on (answers that are requests go back on it). */
  connection: Connection,
) => Promise<OutgoingCommand | undefined> | OutgoingCommand | undefined;

export function parseNamesrvAddrs(addr: string | readonly string[]): string[] {
  const list = typeof addr === 'string' ? addr.split(';') : [...addr];
  return list.map((a) => a.trim()).filter((a) => a.length > 0);
}

export class ClientInstance {
  readonly clientId: string;
  readonly logger: Logger;
  readonly remoting: RemotingClient;
  readonly namesrv: NamesrvClient;
  readonly routes: RouteCache;
  readonly broker: BrokerApi;
  private readonly members = new Set<ClientMember>();
  private readonly handlers = new Map<number, ServerRequestHandler>();
  private readonly timers: NodeJS.Timeout[] = [];
  private started = false;

  constructor(private readonly options: ClientOptions) {
    this.logger = options.logger ?? createLogger('client');
    const instance = options.instanceName ?? `${process.pid}#${hrtime.bigint()}`;
    this.clientId = `${localIPv4()}@${instance}`;
    this.remoting = new RemotingClient({
      logger: this.logger,
      onRequest: (request, connection) => this.onServerRequest(request, connection),
    });
    this.namesrv = new NamesrvClient(this.remoting, options.requestTimeoutMs);
    this.routes = new RouteCache(this.namesrv, parseNamesrvAddrs(options.namesrvAddr), this.logger);
    this.broker = new BrokerApi(this.remoting, options.requestTimeoutMs);
  }

  register(member: ClientMember): void {
    this.members.add(member);
  }

  unregister(member: ClientMember): void {
    this.members.delete(member);
  }

  /** Handles a server → client request code (NOTIFY_CONSUMER_IDS_CHANGED, …). */
  onRequest(code: number, handler: ServerRequestHandler): void {
    this.handlers.set(code, handler);
  }

  /** Fetches routes, heartbeats once, and starts the periodic tasks. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.routes.refresh(this.topics());
    await this.heartbeat();
    this.every(this.options.pollNameServerIntervalMs ?? 30_000, () =>
      this.routes.refresh(this.topics()),
    );
    this.every(this.options.heartbeatBrokerIntervalMs ?? 30_000, () => this.heartbeat());
  }

  /** Runs `task` every `ms`; an error is logged, never thrown. */
  every(ms: number, task: () => Promise<unknown>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      task()
        .catch((err: unknown) => this.logger.warn({ err: String(err) }, 'periodic task failed'))
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  shutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.remoting.close();
  }

  heartbeatData(): HeartbeatData {
    const data: HeartbeatData = {
      clientID: this.clientId,
      consumerDataSet: [],
      producerDataSet: [],
    };
    for (const m of this.members) {
      if (m.producerGroup) data.producerDataSet.push({ groupName: m.producerGroup });
      if (m.consumerData) data.consumerDataSet.push(m.consumerData());
    }
    return data;
  }

  /** Sends a heartbeat to every broker of our topics; failures are logged per broker. */
  async heartbeat(): Promise<void> {
    const data = this.heartbeatData();
    const consumer = [...this.members].some((m) => m.isConsumer);
    const addrs = consumer ? this.routes.allAddrs() : this.routes.masterAddrs();
    await Promise.all(
      addrs.map((addr) =>
        this.broker
          .heartbeat(addr, data)
          .catch((err: unknown) =>
            this.logger.warn({ broker: addr, err: String(err) }, 'heartbeat failed'),
          ),
      ),
    );
  }

  /**
   * UNREGISTER_CLIENT for a group: a consumer group on every broker, a producer group on the
   * masters. Failures are logged; the brokers drop us anyway when the connection closes.
   */
  async unregisterGroup(groups: { producerGroup?: string; consumerGroup?: string }): Promise<void> {
    const addrs = groups.consumerGroup ? this.routes.allAddrs() : this.routes.masterAddrs();
    await Promise.all(
      addrs.map((addr) =>
        this.broker
          .unregisterClient(addr, this.clientId, groups)
          .catch((err: unknown) =>
            this.logger.warn({ broker: addr, ...groups, err: String(err) }, 'unregister failed'),
          ),
      ),
    );
  }

  private topics(): string[] {
    return [...this.members].flatMap((m) => [...m.topics()]);
  }

  private onServerRequest(
    request: RemotingCommand,
    connection: Connection,
  ): ReturnType<ServerRequestHandler> {
    const handler = this.handlers.get(request.code);
    if (handler) return handler(request, connection);
    this.logger.debug({ code: requestCodeName(request.code) }, 'unhandled server request');
    return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
      remark: ` request type ${request.code} not supported`,
    });
  }
}
