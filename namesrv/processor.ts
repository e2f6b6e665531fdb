import type { Connection } from '../common/net/connection';
import type { RemotingServer } from '../common/net/server';
import {
  decodeDataVersion,
  decodeRegisterBrokerBody,
  encodeJsonBody,
  type KVTable,
  type TopicList,
} from '../common/protocol/bodies';
import { RequestCode, ResponseCode } from '../common/protocol/codes';
import { createResponse, type RemotingCommand } from '../common/protocol/command';
import { RemotingError } from '../common/protocol/errors';
import {
  AddWritePermOfBrokerResponseHeader,
  DeleteTopicFromNamesrvRequestHeader,
  GetKVConfigResponseHeader,
  GetKVListByNamespaceRequestHeader,
  GetRouteInfoRequestHeader,
  GetTopicsByClusterRequestHeader,
  KVConfigKeyRequestHeader,
  PutKVConfigRequestHeader,
  QueryDataVersionRequestHeader,
  QueryDataVersionResponseHeader,
  RegisterBrokerRequestHeader,
  RegisterBrokerResponseHeader,
  UnregisterBrokerRequestHeader,
  WipeWritePermOfBrokerRequestHeader,
  WipeWritePermOfBrokerResponseHeader,
} from '../common/protocol/headers';
import type { Logger } from '../common/logger';
import { crc32 } from '../common/message/crc32';
import type { KVConfigManager } from './kv-config';
import { type RegisterResult, type RouteInfoManager, StaleMasterError } from './route-info';

const ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';

export interface NamesrvContext {
  routes: RouteInfoManager;
  kv: KVConfigManager;
  logger: Logger;
  orderMessageEnable: boolean;
  now: () => number;
}

const ok = (request: RemotingCommand, options?: Parameters<typeof createResponse>[2]) =>
  createResponse(request, ResponseCode.SUCCESS, options);

/** Registers the name server's request handlers (`remoting.md` §3.2). */
export function registerNamesrvHandlers(server: RemotingServer, ctx: NamesrvContext): void {
  const { routes, kv, logger } = ctx;

  server.register(RequestCode.REGISTER_BROKER, (request, connection: Connection) => {
    const header = RegisterBrokerRequestHeader.decode(request.extFields);
    if (header.bodyCrc32 && request.body && crc32(request.body) !== header.bodyCrc32) {
      throw new RemotingError(ResponseCode.SYSTEM_ERROR, 'crc32 not match');
    }
    const body = decodeRegisterBrokerBody(request.body, header.compressed ?? false);
    const isNew = !routes.pickupTopicRouteData(header.brokerName);
    let result: RegisterResult;
    try {
      result = routes.registerBroker(
        header,
        header.haServerAddr,
        body.topicConfigSerializeWrapper,
        connection,
        ctx.now(),
      );
    } catch (err) {
      if (!(err instanceof StaleMasterError)) throw err;
      logger.warn({ broker: header.brokerName, addr: header.brokerAddr }, err.message);
      throw new RemotingError(ResponseCode.SYSTEM_ERROR, `registration refused: ${err.message}`);
    }
    logger[isNew ? 'info' : 'debug'](
      { broker: header.brokerName, addr: header.brokerAddr, id: header.brokerId },
      'broker registered',
    );
    // Like Java, the answer carries the order-topic KV table so brokers learn order configs.
    const orderTopics = kv.list(ORDER_TOPIC_CONFIG);
    return ok(request, {
      extFields: RegisterBrokerResponseHeader.encode(result),
      body: orderTopics ? encodeJsonBody({ table: orderTopics } satisfies KVTable) : undefined,
    });
  });

  server.register(RequestCode.UNREGISTER_BROKER, (request) => {
    const header = UnregisterBrokerRequestHeader.decode(request.extFields);
    routes.unregisterBroker(header);
    logger.info({ broker: header.brokerName, addr: header.brokerAddr }, 'broker unregistered');
    return ok(request);
  });

  server.register(RequestCode.QUERY_DATA_VERSION, (request) => {
    const header = QueryDataVersionRequestHeader.decode(request.extFields);
    const result = routes.queryDataVersion(
      header.brokerAddr,
      decodeDataVersion(request.body),
      ctx.now(),
    );
    return ok(request, {
      extFields: QueryDataVersionResponseHeader.encode({ changed: result.changed }),
      body: result.stored ? encodeJsonBody(result.stored) : undefined,
    });
  });

  server.register(RequestCode.GET_ROUTEINFO_BY_TOPIC, (request) => {
    const { topic } = GetRouteInfoRequestHeader.decode(request.extFields);
    const orderConf = ctx.orderMessageEnable ? kv.get(ORDER_TOPIC_CONFIG, topic) : undefined;
    const route = routes.pickupTopicRouteData(topic, orderConf);
    if (!route) {
      throw new RemotingError(
        ResponseCode.TOPIC_NOT_EXIST,
        `No topic route info in name server for the topic: ${topic}`,
      );
    }
    return ok(request, { body: encodeJsonBody(route) });
  });

  server.register(RequestCode.GET_BROKER_CLUSTER_INFO, (request) =>
    ok(request, { body: encodeJsonBody(routes.getClusterInfo()) }),
  );

  const topicList = (request: RemotingCommand, topics: string[]) =>
    ok(request, { body: encodeJsonBody({ topicList: topics } satisfies TopicList) });

  server.register(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, (request) =>
    topicList(request, routes.getAllTopics()),
  );
  server.register(RequestCode.GET_TOPICS_BY_CLUSTER, (request) =>
    topicList(
      request,
      routes.getTopicsByCluster(GetTopicsByClusterRequestHeader.decode(request.extFields).cluster),
    ),
  );
  server.register(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, (request) =>
    topicList(request, routes.getSystemTopics()),
  );

  server.register(RequestCode.DELETE_TOPIC_IN_NAMESRV, (request) => {
    const { topic, clusterName } = DeleteTopicFromNamesrvRequestHeader.decode(request.extFields);
    routes.deleteTopic(topic, clusterName);
    logger.info({ topic, clusterName }, 'topic deleted from name server');
    return ok(request);
  });

  server.register(RequestCode.WIPE_WRITE_PERM_OF_BROKER, (request) => {
    const { brokerName } = WipeWritePermOfBrokerRequestHeader.decode(request.extFields);
    const wipeTopicCount = routes.setWritePermOfBroker(brokerName, false);
    logger.info({ brokerName, wipeTopicCount }, 'write permission of broker wiped');
    return ok(request, {
      extFields: WipeWritePermOfBrokerResponseHeader.encode({ wipeTopicCount }),
    });
  });

  server.register(RequestCode.ADD_WRITE_PERM_OF_BROKER, (request) => {
    const { brokerName } = WipeWritePermOfBrokerRequestHeader.decode(request.extFields);
    const addTopicCount = routes.setWritePermOfBroker(brokerName, true);
    logger.info({ brokerName, addTopicCount }, 'write permission of broker added');
    return ok(request, { extFields: AddWritePermOfBrokerResponseHeader.encode({ addTopicCount }) });
  });

  server.register(RequestCode.PUT_KV_CONFIG, async (request) => {
    const { namespace, key, value } = PutKVConfigRequestHeader.decode(request.extFields);
    await kv.put(namespace, key, value);
    return ok(request);
  });

  server.register(RequestCode.GET_KV_CONFIG, (request) => {
    const { namespace, key } = KVConfigKeyRequestHeader.decode(request.extFields);
    const value = kv.get(namespace, key);
    if (value === undefined) {
      throw new RemotingError(
        ResponseCode.QUERY_NOT_FOUND,
        `No config item, Namespace: ${namespace} Key: ${key}`,
      );
    }
    return ok(request, { extFields: GetKVConfigResponseHeader.encode({ value }) });
  });

  server.register(RequestCode.DELETE_KV_CONFIG, async (request) => {
    const { namespace, key } = KVConfigKeyRequestHeader.decode(request.extFields);
    await kv.delete(namespace, key);
    return ok(request);
  });

  server.register(RequestCode.GET_KVLIST_BY_NAMESPACE, (request) => {
    const { namespace } = GetKVListByNamespaceRequestHeader.decode(request.extFields);
    const table = kv.list(namespace);
    if (!table) {
      throw new RemotingError(
        ResponseCode.QUERY_NOT_FOUND,
        `No config item, Namespace: ${namespace}`,
      );
    }
    return ok(request, { body: encodeJsonBody({ table } satisfies KVTable) });
  });
}
