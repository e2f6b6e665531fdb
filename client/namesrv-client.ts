import type { RemotingClient } from '../common/net/client';
import {
  type ClusterInfo,
  decodeJsonBody,
  encodeJsonBody,
  type KVTable,
  type RegisterBrokerBody,
  type TopicList,
  type TopicRouteData,
} from '../common/protocol/bodies';
import { RequestCode, ResponseCode } from '../common/protocol/codes';
import { createRequest } from '../common/protocol/command';
import {
  AddWritePermOfBrokerResponseHeader,
  DeleteTopicFromNamesrvRequestHeader,
  GetKVConfigResponseHeader,
  GetRouteInfoRequestHeader,
  GetTopicsByClusterRequestHeader,
  KVConfigKeyRequestHeader,
  GetKVListByNamespaceRequestHeader,
  PutKVConfigRequestHeader,
  RegisterBrokerRequestHeader,
  RegisterBrokerResponseHeader,
  UnregisterBrokerRequestHeader,
  WipeWritePermOfBrokerRequestHeader,
  WipeWritePermOfBrokerResponseHeader,
} from '../common/protocol/headers';
import type { HeaderOf } from '../common/protocol/header-schema';
import { expectCode } from './response';

export type RegisterBrokerHeader = HeaderOf<(typeof RegisterBrokerRequestHeader)['fields']>;

/**
 * Typed calls to one name server: what brokers, clients, the admin CLI and the operator ask
 * of it. Each method is one request; retrying over several name servers is the caller's job.
 */
export class NamesrvClient {
  constructor(
    private readonly remoting: RemotingClient,
    private readonly timeoutMs = 3000,
  ) {}

  private async call(
    addr: string,
    code: number,
    extFields?: Record<string, string>,
    body?: Buffer,
  ) {
    return this.remoting.invoke(addr, createRequest(code, extFields, body), this.timeoutMs);
  }

  async registerBroker(
    addr: string,
    header: RegisterBrokerHeader,
    body: RegisterBrokerBody,
  ): Promise<{ masterAddr?: string; haServerAddr?: string }> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.REGISTER_BROKER,
        RegisterBrokerRequestHeader.encode(header),
        encodeJsonBody(body),
      ),
    );
    return RegisterBrokerResponseHeader.decode(response.extFields);
  }

  async unregisterBroker(
    addr: string,
    broker: { brokerName: string; brokerAddr: string; clusterName: string; brokerId: number },
  ): Promise<void> {
    expectCode(
      await this.call(
        addr,
        RequestCode.UNREGISTER_BROKER,
        UnregisterBrokerRequestHeader.encode(broker),
      ),
    );
  }

  /** The topic's route, or undefined when the name server answers TOPIC_NOT_EXIST. */
  async getRouteInfo(addr: string, topic: string): Promise<TopicRouteData | undefined> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.GET_ROUTEINFO_BY_TOPIC,
        GetRouteInfoRequestHeader.encode({ topic, acceptStandardJsonOnly: true }),
      ),
      [ResponseCode.SUCCESS, ResponseCode.TOPIC_NOT_EXIST],
    );
    if (response.code === ResponseCode.TOPIC_NOT_EXIST || !response.body) return undefined;
    return decodeJsonBody(response.body, 'TopicRouteData') as TopicRouteData;
  }

  async getClusterInfo(addr: string): Promise<ClusterInfo> {
    const response = expectCode(await this.call(addr, RequestCode.GET_BROKER_CLUSTER_INFO));
    return decodeJsonBody(response.body, 'ClusterInfo') as ClusterInfo;
  }

  async getAllTopics(addr: string): Promise<string[]> {
    const response = expectCode(
      await this.call(addr, RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER),
    );
    return (decodeJsonBody(response.body, 'TopicList') as TopicList).topicList;
  }

  async getTopicsByCluster(addr: string, cluster: string): Promise<string[]> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.GET_TOPICS_BY_CLUSTER,
        GetTopicsByClusterRequestHeader.encode({ cluster }),
      ),
    );
    return (decodeJsonBody(response.body, 'TopicList') as TopicList).topicList;
  }

  async deleteTopic(addr: string, topic: string, clusterName?: string): Promise<void> {
    expectCode(
      await this.call(
        addr,
        RequestCode.DELETE_TOPIC_IN_NAMESRV,
        DeleteTopicFromNamesrvRequestHeader.encode({ topic, clusterName }),
      ),
    );
  }

  async wipeWritePerm(addr: string, brokerName: string): Promise<number> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.WIPE_WRITE_PERM_OF_BROKER,
        WipeWritePermOfBrokerRequestHeader.encode({ brokerName }),
      ),
    );
    return WipeWritePermOfBrokerResponseHeader.decode(response.extFields).wipeTopicCount;
  }

  async addWritePerm(addr: string, brokerName: string): Promise<number> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.ADD_WRITE_PERM_OF_BROKER,
        WipeWritePermOfBrokerRequestHeader.encode({ brokerName }),
      ),
    );
    return AddWritePermOfBrokerResponseHeader.decode(response.extFields).addTopicCount;
  }

  async putKVConfig(addr: string, namespace: string, key: string, value: string): Promise<void> {
    expectCode(
      await this.call(
        addr,
        RequestCode.PUT_KV_CONFIG,
        PutKVConfigRequestHeader.encode({ namespace, key, value }),
      ),
    );
  }

  async getKVConfig(addr: string, namespace: string, key: string): Promise<string | undefined> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.GET_KV_CONFIG,
        KVConfigKeyRequestHeader.encode({ namespace, key }),
      ),
      [ResponseCode.SUCCESS, ResponseCode.QUERY_NOT_FOUND],
    );
    if (response.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    return GetKVConfigResponseHeader.decode(response.extFields).value;
  }

  async deleteKVConfig(addr: string, namespace: string, key: string): Promise<void> {
    expectCode(
      await this.call(
        addr,
        RequestCode.DELETE_KV_CONFIG,
        KVConfigKeyRequestHeader.encode({ namespace, key }),
      ),
    );
  }

  async getKVList(addr: string, namespace: string): Promise<Record<string, string>> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.GET_KVLIST_BY_NAMESPACE,
        GetKVListByNamespaceRequestHeader.encode({ namespace }),
      ),
      [ResponseCode.SUCCESS, ResponseCode.QUERY_NOT_FOUND],
    );
    if (response.code === ResponseCode.QUERY_NOT_FOUND) return {};
    return (decodeJsonBody(response.body, 'KVTable') as KVTable).table;
  }
}
