import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { Producer } from '../../client/producer';
import type { Logger } from '../../common/logger';
import { RemotingClient } from '../../common/net/client';
import { rocketMQClusterCrd } from '../../operator/api/crd';
import type { ReplicationMode, RocketMQCluster } from '../../operator/api/types';
import { defaultOperatorConfig, Operator } from '../../operator/operator';
import { brokerPodAddress } from '../../operator/reconcile/names';
import { createTopic } from '../broker/support';
import { KubeApiServer } from '../support/kube-api-server';
import { LocalKubelet } from '../support/kube-kubelet';
import type { Json } from '../support/kube-patch';

/**
 * The operator in process against the test API server, with the pods of one namespace running
 * real namesrv and broker processes (LocalKubelet): what the end-to-end operator tests share.
 */
export interface LiveOperator {
  api: KubeApiServer;
  kc: KubeConfig;
  kubelet: LocalKubelet;
  operator: Operator;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  apps: AppsV1Api;
  /** The RocketMQCluster `name` of the namespace as stored now. */
  getCluster(name: string): Promise<RocketMQCluster>;
  /** The address the test dials for the broker pod at `ordinal` of group `group`. */
  brokerAddr(cluster: RocketMQCluster, ordinal: number, group?: string): string;
  /**
   * Creates cluster `name`: one NameServer and one broker group of a master and a slave under
   * the operator's failover (5 s detection), brokers registering every second.
   */
  createPairCluster(name: string, replicationMode: ReplicationMode): Promise<void>;
  /** Creates `topic` on both brokers of group broker-0 and starts a producer for the cluster. */
  startProducer(
    cluster: RocketMQCluster,
    topic: string,
    queues: number,
    producerGroup: string,
  ): Promise<Producer>;
  /** Stops the operator and starts a new one, as when its pod is replaced. */
  restartOperator(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLiveOperator(namespace: string, logger: Logger): Promise<LiveOperator> {
  const api = await KubeApiServer.start();
  api.installCrd(rocketMQClusterCrd() as unknown as Json);
  const kc = api.kubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const kubelet = new LocalKubelet(kc, namespace);
  kubelet.start();
  const newOperator = () =>
    new Operator(
      kc,
      {
        ...defaultOperatorConfig(),
        httpHost: '127.0.0.1',
        httpPort: 0,
        leaseRetryMs: 200,
        leaseDurationSeconds: 15,
      },
      logger,
      { resolveAddress: kubelet.network.resolve, probeIntervalMs: 250 },
    );
  const operator = newOperator();
  await operator.start();
  const remoting = new RemotingClient({ logger });
  const brokerAddr = (cluster: RocketMQCluster, ordinal: number, group = 'broker-0') =>
    kubelet.network.resolve(brokerPodAddress(cluster, group, ordinal));
  const coords = {
    group: 'rocketmq-ts.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'rocketmqclusters',
  };
  const live: LiveOperator = {
    api,
    kc,
    kubelet,
    operator,
    custom,
    core,
    apps: kc.makeApiClient(AppsV1Api),
    getCluster: async (name) =>
      (await custom.getNamespacedCustomObject({ ...coords, name })) as RocketMQCluster,
    brokerAddr,
    createPairCluster: async (name, replicationMode) => {
      await custom.createNamespacedCustomObject({
        ...coords,
        body: {
          apiVersion: 'rocketmq-ts.dev/v1alpha1',
          kind: 'RocketMQCluster',
          metadata: { name },
          spec: {
            nameServer: { replicas: 1 },
            broker: {
              groups: 1,
              replicasPerGroup: 2,
              replicationMode,
              config: { registerNameServerPeriod: '1000', mappedFileSizeCommitLog: '4194304' },
            },
            failover: { enabled: true, detectionSeconds: 5 },
          },
        },
      });
    },
    startProducer: async (cluster, topic, queues, producerGroup) => {
      for (const ordinal of [0, 1]) {
        await createTopic(remoting, brokerAddr(cluster, ordinal), topic, queues);
      }
      const producer = new Producer({
        namesrvAddr: kubelet.network.resolveList(cluster.status?.nameServer?.addresses ?? ''),
        producerGroup,
        logger,
        pollNameServerIntervalMs: 300,
        sendMsgTimeoutMs: 3000,
        retryTimesWhenSendFailed: 2,
      });
      await producer.start();
      return producer;
    },
    restartOperator: async () => {
      await live.operator.stop();
      live.operator = newOperator();
      await live.operator.start();
    },
    stop: async () => {
      remoting.close();
      await live.operator.stop();
      await kubelet.stop();
      await api.stop();
    },
  };
  return live;
}
