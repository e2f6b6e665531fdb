import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { rocketMQClusterCrd } from '../../operator/api/crd';
import { KubeApiServer } from '../support/kube-api-server';
import type { Json } from '../support/kube-patch';
import { startCli, type RunningProcess } from '../support/processes';
import { eventually } from './kube-wait';

/** `rocketmq-ts operator` as a real process, finding its API server through a kubeconfig file. */

let api: KubeApiServer;
let dir: string;
let operator: RunningProcess | undefined;

beforeAll(async () => {
  api = await KubeApiServer.start();
  api.installCrd(rocketMQClusterCrd() as unknown as Json);
  dir = mkdtempSync(join(tmpdir(), 'operator-cli-'));
});
afterAll(async () => {
  await operator?.kill();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the operator verb reconciles a cluster, serves metrics and stops cleanly on SIGTERM', async () => {
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfigYaml());
  operator = startCli(['operator', '--httpPort=0', '--httpHost=127.0.0.1', '--leaseRetryMs=200'], {
    KUBECONFIG: kubeconfig,
  });
  const started = await operator.waitForLog((l) => l.msg === 'operator started');
  await operator.waitForLog((l) => l.msg === 'controller started');
  expect(operator.logs.find((l) => l.msg === 'using Kubernetes API server')?.server).toBe(api.url);

  const kc = api.kubeConfig();
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'rocketmq-ts.dev',
    version: 'v1alpha1',
    namespace: 'default',
    plural: 'rocketmqclusters',
    body: {
      apiVersion: 'rocketmq-ts.dev/v1alpha1',
      kind: 'RocketMQCluster',
      metadata: { name: 'cli' },
      spec: {},
    },
  });
  const apps = kc.makeApiClient(AppsV1Api);
  await eventually(
    'StatefulSets created',
    async () => (await apps.listNamespacedStatefulSet({ namespace: 'default' })).items.length === 2,
  );

  const metrics = await (
    await fetch(`http://127.0.0.1:${String(started.httpPort)}/metrics`)
  ).text();
  expect(metrics).toContain('rmqts_operator_managed_clusters{process="operator"} 1');
  expect(await operator.stop()).toBe(0);
  operator = undefined;
});
