import type {
  V1ConfigMap,
  V1PodDisruptionBudget,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { RocketMQCluster } from '../api/types';
import { configHash, nameServerConf } from './broker-config';
import {
  CONFIG_DIR,
  CONFIG_HASH_ANNOTATION,
  clusterLabels,
  nameServerConfigName,
  nameServerName,
  selectorLabels,
} from './names';
import { httpProbe, metricsAnnotations, scheduling } from './pod-spec';
import { headlessService } from './services';

/** The NameServer StatefulSet, its headless Service (the DNS names brokers use), config and PDB. */
export function nameServerObjects(
  cluster: RocketMQCluster,
): [V1ConfigMap, V1Service, V1StatefulSet, V1PodDisruptionBudget] {
  const { spec, metadata } = cluster;
  const name = nameServerName(cluster);
  const selector = selectorLabels(cluster, 'nameserver');
  const labels = { ...clusterLabels(cluster), ...selector };
  const conf = nameServerConf(cluster);
  const meta = (objectName: string) => ({
    name: objectName,
    namespace: metadata.namespace,
    labels,
  });

  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(nameServerConfigName(cluster)),
    data: { 'namesrv.conf': conf },
  };
  // Brokers get the DNS names of these pods as namesrvAddr.
  const service = headlessService(cluster, meta(name), selector, [
    { name: 'namesrv', port: spec.nameServer.port, targetPort: spec.nameServer.port },
  ]);
  const statefulSet: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(name),
    spec: {
      serviceName: name,
      replicas: spec.nameServer.replicas,
      // NameServers are independent: start and stop them all at once.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          annotations: {
            [CONFIG_HASH_ANNOTATION]: configHash({ conf, image: spec.image }),
            ...metricsAnnotations(cluster),
          },
        },
        spec: {
          ...scheduling(cluster, selector),
          containers: [
            {
              name: 'nameserver',
              image: spec.image,
              imagePullPolicy: spec.imagePullPolicy,
              args: ['namesrv', '-c', `${CONFIG_DIR}/namesrv.conf`],
              ports: [
                { name: 'namesrv', containerPort: spec.nameServer.port },
                { name: 'metrics', containerPort: spec.metrics.port },
              ],
              resources: spec.nameServer.resources,
              readinessProbe: httpProbe('/readyz', spec.metrics.port, 5, 3),
              livenessProbe: httpProbe('/healthz', spec.metrics.port, 10, 6),
              volumeMounts: [{ name: 'config', mountPath: CONFIG_DIR }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: nameServerConfigName(cluster) } }],
        },
      },
    },
  };
  const pdb: V1PodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(name),
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };
  return [configMap, service, statefulSet, pdb];
}
