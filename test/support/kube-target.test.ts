import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { KubeApiServer } from './kube-api-server';
import { collectOwnedBy, crdDocuments, installCrds } from './kube-target';

/**
 * The parts of the envtest target that need no kube-apiserver, run through the real client
 * against our test API server: installing crds/ and playing the garbage collector.
 */

let api: KubeApiServer;
beforeEach(async () => {
  api = await KubeApiServer.start();
});
afterEach(() => api.stop());

test('installCrds establishes every CRD in crds/, and the example can then be created', async () => {
  const kc = api.kubeConfig();
  await installCrds(kc);
  expect(crdDocuments().map((c) => c.metadata?.name)).toEqual(['rocketmqclusters.rocketmq-ts.dev']);
  const example = parseYaml(
    readFileSync(join(__dirname, '../../examples/rocketmq-cluster.yaml'), 'utf8'),
  ) as object;
  const created = (await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'rocketmq-ts.dev',
    version: 'v1alpha1',
    namespace: 'default',
    plural: 'rocketmqclusters',
    body: example,
  })) as { metadata: { name: string } };
  expect(created.metadata.name).toBe('demo');
});

test('collectOwnedBy deletes what the owner owns, and the pods of owned StatefulSets', async () => {
  const kc = api.kubeConfig();
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = 'default';
  // Owners that exist, so the test server's own garbage collector leaves their objects alone.
  const owner = async (name: string) =>
    (await core.createNamespacedConfigMap({ namespace, body: { metadata: { name } } })).metadata
      ?.uid ?? '';
  const [mine, other] = [await owner('owner-1'), await owner('owner-2')];
  const owned = (uid: string) => ({
    ownerReferences: [{ apiVersion: 'v1', kind: 'Owner', name: 'o', uid, controller: true }],
  });
  const sts = await apps.createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name: 's', ...owned(mine) },
      spec: {
        serviceName: 's',
        selector: { matchLabels: { app: 's' } },
        template: {
          metadata: { labels: { app: 's' } },
          spec: { containers: [{ name: 'c', image: 'i' }] },
        },
      },
    },
  });
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 's-0', ...owned(sts.metadata?.uid ?? '') },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    },
  });
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'mine', ...owned(mine) } },
  });
  await core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'other', ...owned(other) } },
  });
  expect(await collectOwnedBy(kc, namespace, mine)).toBe(3);
  expect((await apps.listNamespacedStatefulSet({ namespace })).items).toEqual([]);
  expect((await core.listNamespacedPod({ namespace })).items).toEqual([]);
  expect(
    (await core.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata?.name),
  ).toEqual(['owner-1', 'owner-2', 'other']);
});
