/**
 * Administration of a cluster through the name servers and brokers (remoting.md §3.5, §3.6):
 * what the admin CLI and the operator need. Each method names the RocketMQ request it sends.
 */
import type { Logger } from '../common/logger';
import { createLogger } from '../common/logger';
import { decodeOffsetMsgId } from '../common/message/message-id';
import { MessageConst } from '../common/message/properties';
import { RemotingClient } from '../common/net/client';
import {
  type ClusterInfo,
  decodeJsonBody,
  type KVTable,
  Perm,
  type TopicRouteData,
} from '../common/protocol/bodies';
import {
  type ConsumeStats,
  type ConsumerConnection,
  decodeConsumeStats,
  decodeConsumerConnection,
  decodeTopicStatsTable,
  type TopicStatsTable,
} from '../common/protocol/broker-bodies';
import { RequestCode, ResponseCode } from '../common/protocol/codes';
import { createRequest } from '../common/protocol/command';
import {
  ConsumerGroupRequestHeader,
  CreateTopicRequestHeader,
  GetConsumeStatsRequestHeader,
  QueryMessageRequestHeader,
  TopicRequestHeader,
  ViewMessageRequestHeader,
} from '../common/protocol/headers';
import { parseNamesrvAddrs } from './client-instance';
import { decodeMessages, type MessageExt } from './message';
import { NamesrvClient } from './namesrv-client';
import { expectCode } from './response';
import { MASTER_ID } from './route';
import { RouteCache } from './route-cache';

export interface TopicSettings {
  topic: string;
  readQueueNums?: number;
  writeQueueNums?: number;
  /** Permission bits: 6 read+write (default), 4 read only, 2 write only. */
  perm?: number;
  order?: boolean;
}

export interface AdminOptions {
  namesrvAddr: string | readonly string[];
  logger?: Logger;
  timeoutMs?: number;
}

/** Java's `MixAll.getRetryTopic`: where a group's consumer ids and offsets are found. */
export const retryTopic = (group: string): string => `%RETRY%${group}`;

export class AdminClient {
  readonly remoting: RemotingClient;
  readonly namesrv: NamesrvClient;
  readonly namesrvAddrs: string[];
  readonly logger: Logger;
  private readonly routes: RouteCache;
  private readonly timeoutMs: number;

  constructor(options: AdminOptions) {
    const logger = options.logger ?? createLogger('admin');
    this.logger = logger;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.remoting = new RemotingClient({ logger });
    this.namesrv = new NamesrvClient(this.remoting, this.timeoutMs);
    this.namesrvAddrs = parseNamesrvAddrs(options.namesrvAddr);
    this.routes = new RouteCache(this.namesrv, this.namesrvAddrs, logger);
  }

  close(): void {
    this.remoting.close();
  }

  private async call(addr: string, code: number, extFields?: Record<string, string>) {
    return expectCode(
      await this.remoting.invoke(addr, createRequest(code, extFields), this.timeoutMs),
    );
  }

  // ------------------------------------------------------------ name server

  /** Asks the name servers in turn until one answers. */
  onAnyNamesrv<T>(call: (addr: string) => Promise<T>): Promise<T> {
    return this.routes.onNamesrv(call);
  }

  clusterInfo(): Promise<ClusterInfo> {
    return this.routes.onNamesrv((addr) => this.namesrv.getClusterInfo(addr));
  }

  topicList(cluster?: string): Promise<string[]> {
    return this.routes.onNamesrv((addr) =>
      cluster ? this.namesrv.getTopicsByCluster(addr, cluster) : this.namesrv.getAllTopics(addr),
    );
  }

  /** The topic's route; throws when the name servers have none. */
  async topicRoute(topic: string): Promise<TopicRouteData> {
    const route = await this.routes.fetch(topic);
    if (!route) throw new Error(`No topic route info in name server for the topic: ${topic}`);
    return route;
  }

  /** Master addresses of every broker in `cluster`. */
  async clusterMasterAddrs(cluster: string): Promise<string[]> {
    const info = await this.clusterInfo();
    const names = info.clusterAddrTable[cluster];
    if (!names) throw new Error(`cluster ${cluster} not found`);
    return names
      .map((name) => info.brokerAddrTable[name]?.brokerAddrs[String(MASTER_ID)])
      .filter((a): a is string => a !== undefined);
  }

  // ------------------------------------------------------------ topics

  /** UPDATE_AND_CREATE_TOPIC on one broker; the broker then registers it with the name servers. */
  async createTopic(brokerAddr: string, settings: TopicSettings): Promise<void> {
    await this.call(
      brokerAddr,
      RequestCode.UPDATE_AND_CREATE_TOPIC,
      CreateTopicRequestHeader.encode({
        topic: settings.topic,
        defaultTopic: 'TBW102',
        readQueueNums: settings.readQueueNums ?? 8,
        writeQueueNums: settings.writeQueueNums ?? 8,
        perm: settings.perm ?? Perm.READ | Perm.WRITE,
        topicFilterType: 'SINGLE_TAG',
        topicSysFlag: 0,
        order: settings.order ?? false,
      }),
    );
  }

  /** DELETE_TOPIC_IN_BROKER on each broker, then DELETE_TOPIC_IN_NAMESRV on every name server. */
  async deleteTopic(
    topic: string,
    brokerAddrs: readonly string[],
    cluster?: string,
  ): Promise<void> {
    for (const addr of brokerAddrs) {
      await this.call(
        addr,
        RequestCode.DELETE_TOPIC_IN_BROKER,
        TopicRequestHeader.encode({ topic }),
      );
    }
    for (const addr of this.namesrvAddrs) await this.namesrv.deleteTopic(addr, topic, cluster);
  }

  /** GET_TOPIC_STATS_INFO from every master of the topic, merged. */
  async topicStats(topic: string): Promise<TopicStatsTable> {
    const route = await this.topicRoute(topic);
    const merged: TopicStatsTable = { offsetTable: new Map() };
    for (const broker of route.brokerDatas) {
      const addr = broker.brokerAddrs[String(MASTER_ID)];
      if (!addr) continue;
      const response = await this.call(
        addr,
        RequestCode.GET_TOPIC_STATS_INFO,
        TopicRequestHeader.encode({ topic }),
      );
      for (const entry of decodeTopicStatsTable(response.body).offsetTable) {
        merged.offsetTable.set(...entry);
      }
    }
    return merged;
  }

  // ------------------------------------------------------------ brokers

  /** GET_BROKER_RUNTIME_INFO: the broker's runtime key/value table. */
  async brokerRuntimeInfo(brokerAddr: string): Promise<Record<string, string>> {
    const response = await this.call(brokerAddr, RequestCode.GET_BROKER_RUNTIME_INFO);
    return (decodeJsonBody(response.body, 'KVTable') as KVTable).table;
  }

  // ------------------------------------------------------------ consumers

  /** GET_CONSUME_STATS (of one topic, or all the group consumes) from every master of the group. */
  async consumeStats(group: string, topic?: string): Promise<ConsumeStats> {
    const route = await this.topicRoute(retryTopic(group));
    const merged: ConsumeStats = { consumeTps: 0, offsetTable: new Map() };
    for (const broker of route.brokerDatas) {
      const addr = broker.brokerAddrs[String(MASTER_ID)];
      if (!addr) continue;
      const response = await this.call(
        addr,
        RequestCode.GET_CONSUME_STATS,
        GetConsumeStatsRequestHeader.encode({ consumerGroup: group, topic }),
      );
      const stats = decodeConsumeStats(response.body);
      merged.consumeTps += stats.consumeTps;
      for (const entry of stats.offsetTable) merged.offsetTable.set(...entry);
    }
    return merged;
  }

  /** GET_CONSUMER_CONNECTION_LIST from a broker of the group's retry topic. */
  async consumerConnection(group: string): Promise<ConsumerConnection> {
    const route = await this.topicRoute(retryTopic(group));
    let lastError: unknown = new Error(`the consumer group[${group}] not online`);
    for (const broker of route.brokerDatas) {
      const addr = broker.brokerAddrs[String(MASTER_ID)] ?? Object.values(broker.brokerAddrs)[0];
      if (!addr) continue;
      try {
        const response = await this.call(
          addr,
          RequestCode.GET_CONSUMER_CONNECTION_LIST,
          ConsumerGroupRequestHeader.encode({ consumerGroup: group }),
        );
        return decodeConsumerConnection(response.body);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  // ------------------------------------------------------------ messages

  /** VIEW_MESSAGE_BY_ID at the store host and commit-log offset an offsetMsgId encodes. */
  async viewMessage(offsetMsgId: string): Promise<MessageExt> {
    const { host, physicalOffset } = decodeOffsetMsgId(offsetMsgId);
    const response = await this.call(
      `${host.ip}:${host.port}`,
      RequestCode.VIEW_MESSAGE_BY_ID,
      ViewMessageRequestHeader.encode({ offset: physicalOffset }),
    );
    const [msg] = decodeMessages(response.body, '');
    if (!msg) throw new Error(`message ${offsetMsgId} not found`);
    return msg;
  }

  /**
   * QUERY_MESSAGE on one address per broker of the topic; keeps the messages whose KEYS
   * contain `key` (or, with `uniqueKey`, whose UNIQ_KEY is `key`), as the Java admin does.
   */
  async queryMessageByKey(
    topic: string,
    key: string,
    options: { maxNum?: number; begin?: number; end?: number; uniqueKey?: boolean } = {},
  ): Promise<MessageExt[]> {
    const route = await this.topicRoute(topic);
    const found: MessageExt[] = [];
    for (const broker of route.brokerDatas) {
      const addr = broker.brokerAddrs[String(MASTER_ID)] ?? Object.values(broker.brokerAddrs)[0];
      if (!addr) continue;
      const extFields = QueryMessageRequestHeader.encode({
        topic,
        key,
        maxNum: options.maxNum ?? 64,
        beginTimestamp: options.begin ?? 0,
        endTimestamp: options.end ?? Number.MAX_SAFE_INTEGER,
      });
      extFields._UNIQUE_KEY_QUERY = String(options.uniqueKey ?? false);
      const response = await this.remoting.invoke(
        addr,
        createRequest(RequestCode.QUERY_MESSAGE, extFields),
        this.timeoutMs,
      );
      if (response.code === ResponseCode.QUERY_NOT_FOUND) continue;
      expectCode(response);
      for (const msg of decodeMessages(response.body, broker.brokerName)) {
        const matches = options.uniqueKey
          ? msg.properties.get(MessageConst.UNIQ_KEY) === key
          : (msg.keys ?? '').split(' ').includes(key);
        if (matches && msg.topic === topic) found.push(msg);
      }
    }
    return found;
  }
}
