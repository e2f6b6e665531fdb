import { CustomObjectsApi } from '@kubernetes/client-node';
import { rocketMQClusterCrd } from '../../operator/api/crd';
import type { RocketMQCluster } from '../../operator/api/types';
import { KubeGateway } from '../../operator/controller/kube-gateway';
import { KubeStateStore } from '../../operator/failover/kube-state-store';
import { brokerPodAddress } from '../../operator/reconcile/names';
import { KubeApiServer } from '../support/kube-api-server';
import type { Json } from '../support/kube-patch';

/** The failover decision recorded in the RocketMQCluster's status, on the test API server. */

let api: KubeApiServer;
let kube: KubeGateway;
let custom: CustomObjectsApi;
const coords = {
  group: 'rocketmq-ts.dev',
  version: 'v1alpha1',
  namespace: 'default',
  plural: 'rocketmqclusters',
};

beforeAll(async () => {
  api = await KubeApiServer.start();
  api.installCrd(rocketMQClusterCrd() as unknown as Json);
  kube = new KubeGateway(api.kubeConfig());
  custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
  await custom.createNamespacedCustomObject({
    ...coords,
    body: {
      apiVersion: 'rocketmq-ts.dev/v1alpha1',
      kind: 'RocketMQCluster',
      metadata: { name: 'kv' },
      spec: { broker: { groups: 1, replicasPerGroup: 3 } },
    },
  });
});

afterAll(() => api.stop());

const store = () =>
  new KubeStateStore(kube, 'default', 'kv', (c: RocketMQCluster, g: string, o: number) =>
    brokerPodAddress(c, g, o),
  );
const addr = (ordinal: number) => `kv-broker-0-${ordinal}.kv-broker-0.default.svc:10911`;
const status = async () =>
  ((await custom.getNamespacedCustomObject({ ...coords, name: 'kv' })) as RocketMQCluster).status;

test('nothing recorded (or epoch 0, as status shows before any election) loads as undefined', async () => {
  expect(await store().load('broker-0')).toBeUndefined();
});

test('save records epoch and master pod in status.groups; load gives them back as an address', async () => {
  await store().save('broker-0', { epoch: 1, masterAddr: addr(2) });
  expect((await status())?.groups).toEqual([
    { name: 'broker-0', masterPod: 'kv-broker-0-2', epoch: 1, replicas: [] },
  ]);
  expect(await store().load('broker-0')).toEqual({ epoch: 1, masterAddr: addr(2) });
  // Other status fields are kept.
  await store().save('broker-0', { epoch: 2, masterAddr: addr(0) });
  expect((await status())?.groups?.[0]).toMatchObject({ masterPod: 'kv-broker-0-0', epoch: 2 });
});

test('an epoch not above the recorded one is refused: a stale controller cannot make a master', async () => {
  await expect(store().save('broker-0', { epoch: 2, masterAddr: addr(1) })).rejects.toThrow(
    /epoch 2 is already recorded; refusing epoch 2/,
  );
  expect(await store().load('broker-0')).toEqual({ epoch: 2, masterAddr: addr(0) });
});

test('an address that is none of the group pods is refused', async () => {
  await expect(
    store().save('broker-0', { epoch: 3, masterAddr: '10.0.0.9:10911' }),
  ).rejects.toThrow(/not one of its pods/);
});

test('concurrent saves: each write is conditional on resourceVersion, so exactly one epoch wins per round', async () => {
  const results = await Promise.allSettled([
    store().save('broker-0', { epoch: 3, masterAddr: addr(1) }),
    store().save('broker-0', { epoch: 3, masterAddr: addr(2) }),
  ]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  expect((await status())?.groups?.[0].epoch).toBe(3);
});
