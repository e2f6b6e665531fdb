import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { API_GROUP_VERSION, KIND, type FailoverState, type RocketMQCluster } from '../api/types';
import { brokerGroupObjects } from './broker-group';
import { brokerName, clusterLabels } from './names';
import { nameServerObjects } from './nameserver';

/** A desired object: always has kind, apiVersion, name and namespace. */
export interface DesiredObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences?: V1OwnerReference[];
  };
}

export function ownerReference(cluster: RocketMQCluster): V1OwnerReference {
  if (!cluster.metadata.uid) throw new Error(`cluster ${cluster.metadata.name} has no uid yet`);
  return {
    apiVersion: API_GROUP_VERSION,
    kind: KIND,
    name: cluster.metadata.name,
    uid: cluster.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** A prometheus-operator ServiceMonitor scraping every namesrv and broker of the cluster. */
function serviceMonitor(cluster: RocketMQCluster): KubernetesObject {
  const labels = clusterLabels(cluster);
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: cluster.metadata.name, namespace: cluster.metadata.namespace, labels },
    spec: {
      selector: {
        matchLabels: {
          'app.kubernetes.io/instance': cluster.metadata.name,
          'app.kubernetes.io/name': 'rocketmq',
        },
      },
      endpoints: [
        {
          port: 'metrics',
          path: '/metrics',
          interval: cluster.spec.metrics.serviceMonitor.interval,
        },
      ],
    },
  } as KubernetesObject;
}

/**
 * Everything the cluster should consist of: a pure function of the (defaulted, validated) spec
 * and the failover state recorded in status. Each object carries the cluster as controlling owner.
 */
export function desiredObjects(cluster: RocketMQCluster, failover: FailoverState): DesiredObject[] {
  const objects: KubernetesObject[] = [...nameServerObjects(cluster)];
  for (let g = 0; g < cluster.spec.broker.groups; g++)
    objects.push(...brokerGroupObjects(cluster, g, failover));
  if (cluster.spec.metrics.enabled && cluster.spec.metrics.serviceMonitor.enabled)
    objects.push(serviceMonitor(cluster));
  const owner = ownerReference(cluster);
  return objects.map(
    (o) => ({ ...o, metadata: { ...o.metadata, ownerReferences: [owner] } }) as DesiredObject,
  );
}

/** Group names the spec asks for, in order. */
export function groupNames(cluster: RocketMQCluster): string[] {
  return Array.from({ length: cluster.spec.broker.groups }, (_, g) => brokerName(g));
}

/** The recorded failover state, read back from status.groups. */
export function failoverStateOf(cluster: RocketMQCluster): FailoverState {
  const state = new Map<string, { masterOrdinal: number; epoch: number }>();
  for (const group of cluster.status?.groups ?? []) {
    const ordinal = Number(/-(\d+)$/.exec(group.masterPod)?.[1] ?? 0);
    state.set(group.name, { masterOrdinal: ordinal, epoch: group.epoch });
  }
  return state;
}
