import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { ClusterCondition, RocketMQCluster } from '../../operator/api/types';
import { createLogger } from '../../common/logger';
import { defaultOperatorConfig, Operator } from '../../operator/operator';
import { CONFIG_HASH_ANNOTATION } from '../../operator/reconcile/names';
import { collectOwnedBy, describeEachKubeTarget, type KubeTarget } from '../support/kube-target';
import { settleStatefulSets } from '../support/kube-workloads';
import { eventually } from './kube-wait';

/**
 * The operator, in process, through the real client: create a cluster, watch its objects and
 * status appear, change it, refuse a bad spec, pause, delete. Against our test API server, and
 * against a real kube-apiserver too when KUBEBUILDER_ASSETS is set (envtest).
 */

const NS = 'rmq';
const coords = {
  group: 'rocketmq-ts.dev',
  version: 'v1alpha1',
  namespace: NS,
  plural: 'rocketmqclusters',
};
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describeEachKubeTarget('the operator', (kind) => {
  let target: KubeTarget;
  let kc: KubeConfig;
  let operator: Operator;
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  beforeAll(async () => {
    target = await kind.start();
    kc = target.kubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    operator = new Operator(
      kc,
      {
        ...defaultOperatorConfig(),
        httpHost: '127.0.0.1',
        httpPort: 0,
        leaseRetryMs: 100,
      },
      createLogger('operator-test', 'silent'),
    );
    await operator.start();
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    await target?.stop();
  });

  const getCluster = async () =>
    (await custom.getNamespacedCustomObject({ ...coords, name: 'demo' })) as RocketMQCluster;
  const condition = (c: RocketMQCluster, type: string): ClusterCondition | undefined =>
    c.status?.conditions?.find((x) => x.type === type);
  const readSts = (name: string) => apps.readNamespacedStatefulSet({ namespace: NS, name });
  const patchCluster = (body: object) =>
    custom.patchNamespacedCustomObject({ ...coords, name: 'demo', body }, mergePatch);
  const eventReasons = async () =>
    (await core.listNamespacedEvent({ namespace: NS })).items
      .filter((e) => e.involvedObject.name === 'demo')
      .map((e) => e.reason);

  test('the operator leads and serves /healthz, /readyz', async () => {
    await eventually('leadership', () => operator.isLeader);
    const base = `http://127.0.0.1:${operator.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await eventually('ready', async () => (await fetch(`${base}/readyz`)).status === 200);
  });

  test('creating a RocketMQCluster creates its objects with owner references, a finalizer and status', async () => {
    await custom.createNamespacedCustomObject({
      ...coords,
      body: {
        apiVersion: 'rocketmq-ts.dev/v1alpha1',
        kind: 'RocketMQCluster',
        metadata: { name: 'demo' },
        spec: {
          broker: {
            groups: 2,
            replicasPerGroup: 2,
            replicationMode: 'SYNC',
            storage: { deleteClaimsOnClusterDeletion: true },
          },
          // Static roles here (no broker processes run); live-cluster.integration.test.ts covers failover.
          failover: { enabled: false },
        },
      },
    });
    const cluster = await eventually('status written', async () => {
      const c = await getCluster();
      return c.status?.observedGeneration === 1 ? c : undefined;
    });
    expect(cluster.metadata.finalizers).toEqual(['rocketmq-ts.dev/cleanup']);
    expect(cluster.spec.nameServer.replicas).toBe(2); // defaulted by the API server from the CRD schema
    expect(condition(cluster, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'WaitingForPods',
      observedGeneration: 1,
    });
    expect(condition(cluster, 'Progressing')).toMatchObject({ status: 'True' });
    expect(condition(cluster, 'Degraded')).toMatchObject({ status: 'False' });
    expect(cluster.status?.nameServer?.addresses).toBe(
      'demo-nameserver-0.demo-nameserver.rmq.svc:9876;demo-nameserver-1.demo-nameserver.rmq.svc:9876',
    );

    const sets = await apps.listNamespacedStatefulSet({ namespace: NS });
    expect(sets.items.map((s) => s.metadata?.name).sort()).toEqual([
      'demo-broker-0',
      'demo-broker-1',
      'demo-nameserver',
    ]);
    for (const s of sets.items) {
      expect(s.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'RocketMQCluster',
        name: 'demo',
        uid: cluster.metadata.uid,
        controller: true,
      });
      expect(s.metadata?.managedFields?.map((f) => f.manager)).toContain('rocketmq-ts-operator');
    }
    const services = (await core.listNamespacedService({ namespace: NS })).items
      .map((s) => s.metadata?.name)
      .sort();
    expect(services).toEqual([
      'demo-broker-0',
      'demo-broker-0-master',
      'demo-broker-1',
      'demo-broker-1-master',
      'demo-nameserver',
    ]);
    const configMaps = (await core.listNamespacedConfigMap({ namespace: NS })).items
      .map((c) => c.metadata?.name)
      .sort();
    expect(configMaps).toEqual([
      'demo-broker-0-config',
      'demo-broker-1-config',
      'demo-nameserver-config',
    ]);
    expect(await eventReasons()).toContain('Applied');
  });

  test('when the pods are ready the cluster goes Ready, masters are labelled, status lists the groups', async () => {
    await settleStatefulSets(kc, NS);
    const cluster = await eventually('Ready', async () => {
      const c = await getCluster();
      return condition(c, 'Ready')?.status === 'True' ? c : undefined;
    });
    expect(cluster.status?.readyGroups).toBe('2/2');
    expect(cluster.status?.groups?.[1]).toEqual({
      name: 'broker-1',
      masterPod: 'demo-broker-1-0',
      epoch: 0,
      replicas: [
        { pod: 'demo-broker-1-0', brokerId: 0, role: 'MASTER', ready: true },
        { pod: 'demo-broker-1-1', brokerId: 1, role: 'SLAVE', ready: true },
      ],
    });
    await eventually('master labels', async () => {
      const pods = await core.listNamespacedPod({
        namespace: NS,
        labelSelector: 'rocketmq-ts.dev/role=master',
      });
      return (
        pods.items
          .map((p) => p.metadata?.name)
          .sort()
          .join() === 'demo-broker-0-0,demo-broker-1-0'
      );
    });
    expect(await eventReasons()).toContain('Ready');
  });

  test('changing replicas changes the objects; NameServer scaling leaves broker pod templates alone', async () => {
    const brokerBefore = await readSts('demo-broker-0');
    await patchCluster({ spec: { nameServer: { replicas: 3 }, broker: { replicasPerGroup: 3 } } });
    const nameservers = await eventually('NameServer scaled', async () => {
      const s = await readSts('demo-nameserver');
      return s.spec?.replicas === 3 ? s : undefined;
    });
    expect(nameservers.spec?.replicas).toBe(3);
    const broker = await readSts('demo-broker-0');
    expect(broker.spec?.replicas).toBe(3);
    expect(broker.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION]).toBe(
      brokerBefore.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION],
    );
    const conf =
      (await core.readNamespacedConfigMap({ namespace: NS, name: 'demo-broker-0-config' })).data ??
      {};
    expect(Object.keys(conf)).toHaveLength(3);
    expect(conf['demo-broker-0-2.conf']).toContain(
      'namesrvAddr=demo-nameserver-0.demo-nameserver.rmq.svc:9876;demo-nameserver-1.demo-nameserver.rmq.svc:9876;demo-nameserver-2',
    );
    await eventually(
      'generation 2 observed',
      async () => (await getCluster()).status?.observedGeneration === 2,
    );
  });

  test('drift is undone: an edited owned object is re-applied', async () => {
    await core.patchNamespacedConfigMap(
      {
        namespace: NS,
        name: 'demo-broker-1-config',
        body: { data: { 'demo-broker-1-0.conf': 'brokerRole=SLAVE\n' } },
      },
      mergePatch,
    );
    await eventually('ConfigMap restored', async () => {
      const cm = await core.readNamespacedConfigMap({
        namespace: NS,
        name: 'demo-broker-1-config',
      });
      return cm.data?.['demo-broker-1-0.conf']?.includes('brokerRole=SYNC_MASTER');
    });
  });

  test('a spec the schema cannot refuse is refused by the operator with Degraded and an Event', async () => {
    await patchCluster({ spec: { broker: { config: { brokerRole: 'ASYNC_MASTER' } } } });
    const refused = await eventually('Degraded', async () => {
      const c = await getCluster();
      return condition(c, 'Degraded')?.status === 'True' ? c : undefined;
    });
    expect(condition(refused, 'Degraded')).toMatchObject({
      reason: 'InvalidSpec',
      message: 'spec.broker.config.brokerRole is set by the operator; remove it',
    });
    expect(refused.status?.observedGeneration).toBe(refused.metadata.generation);
    expect(await eventReasons()).toContain('InvalidSpec');
    const conf = await core.readNamespacedConfigMap({
      namespace: NS,
      name: 'demo-broker-0-config',
    });
    expect(conf.data?.['demo-broker-0-0.conf']).toContain('brokerRole=SYNC_MASTER');
    await patchCluster({ spec: { broker: { config: { brokerRole: null } } } });
    await eventually(
      'Degraded cleared',
      async () => condition(await getCluster(), 'Degraded')?.status === 'False',
    );
  });

  test('the pause annotation stops all changes until it is removed', async () => {
    await patchCluster({ metadata: { annotations: { 'rocketmq-ts.dev/paused': 'true' } } });
    await eventually(
      'Paused',
      async () => condition(await getCluster(), 'Paused')?.status === 'True',
    );
    await patchCluster({ spec: { nameServer: { replicas: 4 } } });
    await operator.idle();
    await new Promise((r) => setTimeout(r, 200));
    await operator.idle();
    expect((await readSts('demo-nameserver')).spec?.replicas).toBe(3);
    const paused = await getCluster();
    expect(paused.status?.observedGeneration).toBeLessThan(paused.metadata.generation ?? 0);
    await patchCluster({ metadata: { annotations: { 'rocketmq-ts.dev/paused': null } } });
    await eventually(
      'resumed',
      async () => (await readSts('demo-nameserver')).spec?.replicas === 4,
    );
    await eventually(
      'Paused cleared',
      async () => condition(await getCluster(), 'Paused')?.status === 'False',
    );
  });

  test('a change the API server refuses (StatefulSet storage is immutable) shows as Degraded ApplyFailed', async () => {
    await patchCluster({ spec: { broker: { storage: { size: '99Gi' } } } });
    const failed = await eventually('ApplyFailed', async () => {
      const c = await getCluster();
      return condition(c, 'Degraded')?.reason === 'ApplyFailed' ? c : undefined;
    });
    expect(condition(failed, 'Degraded')?.message).toMatch(
      /^applying the desired objects failed: StatefulSet.apps "demo-broker-\d" is invalid: spec: Forbidden/,
    );
    expect(await eventReasons()).toContain('ApplyFailed');
    await patchCluster({ spec: { broker: { storage: { size: '10Gi' } } } });
    await eventually(
      'Degraded cleared',
      async () => condition(await getCluster(), 'Degraded')?.status === 'False',
    );
  });

  test('reconcile metrics are exported', async () => {
    const text = await (await fetch(`http://127.0.0.1:${operator.httpPort}/metrics`)).text();
    expect(text).toMatch(
      /rmqts_operator_reconciles_total\{result="success",process="operator"\} [1-9]/,
    );
    expect(text).toMatch(
      /rmqts_operator_reconciles_total\{result="invalid",process="operator"\} [1-9]/,
    );
    expect(text).toMatch(
      /rmqts_operator_reconciles_total\{result="paused",process="operator"\} [1-9]/,
    );
    expect(text).toContain('rmqts_operator_managed_clusters{process="operator"} 1');
    expect(text).toMatch(
      /rmqts_operator_reconcile_failures_total\{reason="http_422",process="operator"\} [1-9]/,
    );
    expect(text).toContain('rmqts_operator_reconcile_duration_seconds_bucket');
  });

  test('deleting the cluster runs the finalizer (PVCs deleted as the spec asks) and garbage-collects its objects', async () => {
    await settleStatefulSets(kc, NS);
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items.length).toBe(
      6,
    );
    const uid = (await getCluster()).metadata.uid ?? '';
    await custom.deleteNamespacedCustomObject({ ...coords, name: 'demo' });
    await eventually('cluster gone', async () => {
      try {
        await getCluster();
        return false;
      } catch {
        return true;
      }
    });
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items).toEqual([]);
    if (!target.collectsGarbage) expect(await collectOwnedBy(kc, NS, uid)).toBeGreaterThan(0);
    await eventually('owned objects collected', async () => {
      const [sets, pods, maps] = await Promise.all([
        apps.listNamespacedStatefulSet({ namespace: NS }),
        core.listNamespacedPod({ namespace: NS }),
        core.listNamespacedConfigMap({ namespace: NS }),
      ]);
      return sets.items.length + pods.items.length + maps.items.length === 0;
    });
    expect(await eventReasons()).toContain('ClaimsDeleted');
  });

  test('with the default policy, deletion keeps the PVCs', async () => {
    await custom.createNamespacedCustomObject({
      ...coords,
      body: {
        apiVersion: 'rocketmq-ts.dev/v1alpha1',
        kind: 'RocketMQCluster',
        metadata: { name: 'keep' },
        spec: { nameServer: { replicas: 1 } },
      },
    });
    await eventually(
      'objects created',
      async () => (await apps.listNamespacedStatefulSet({ namespace: NS })).items.length === 2,
    );
    await settleStatefulSets(kc, NS);
    await custom.deleteNamespacedCustomObject({ ...coords, name: 'keep' });
    await eventually('keep gone', async () => {
      const list = (await custom.listNamespacedCustomObject(coords)) as { items: unknown[] };
      return list.items.length === 0;
    });
    const claims = (await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items
      .map((c) => c.metadata?.name)
      .sort();
    expect(claims).toEqual(['store-keep-broker-0-0', 'store-keep-broker-0-1']);
  });
});
