import { API_GROUP, type RocketMQCluster } from '../api/types';

/** Object names, labels and DNS names derived from a cluster; every other module uses these. */

export const FIELD_MANAGER = 'rocketmq-ts-operator';
export const GROUP_LABEL = `${API_GROUP}/group`;
/** Set by the operator on the pod that is its group's master; the master Service selects it. */
export const ROLE_LABEL = `${API_GROUP}/role`;
export const CONFIG_HASH_ANNOTATION = `${API_GROUP}/config-hash`;
/**
 * Digest of a broker pod template, on the template and so on every pod created from it: a pod
 * whose value differs from the desired one runs an old template and is rolled by the operator
 * (broker StatefulSets use OnDelete; see rolling/).
 */
export const TEMPLATE_HASH_ANNOTATION = `${API_GROUP}/template-hash`;

export const BROKER_LISTEN_PORT = 10911;
export const BROKER_FAST_PORT = BROKER_LISTEN_PORT - 2;
export const BROKER_HA_PORT = BROKER_LISTEN_PORT + 1;
export const STORE_PATH = '/home/rocketmq/store';
export const CONFIG_DIR = '/etc/rocketmq';

export type Component = 'nameserver' | 'broker';

export function clusterLabels(cluster: RocketMQCluster): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'rocketmq',
    'app.kubernetes.io/instance': cluster.metadata.name,
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
  };
}

/** Labels that select a component's pods; also the StatefulSet selector, so never change them. */
export function selectorLabels(cluster: RocketMQCluster, component: Component, group?: string) {
  return {
    'app.kubernetes.io/name': 'rocketmq',
    'app.kubernetes.io/instance': cluster.metadata.name,
    'app.kubernetes.io/component': component,
    ...(group === undefined ? {} : { [GROUP_LABEL]: group }),
  };
}

export function labelSelectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export const nameServerName = (cluster: RocketMQCluster) => `${cluster.metadata.name}-nameserver`;
export const nameServerConfigName = (cluster: RocketMQCluster) =>
  `${nameServerName(cluster)}-config`;

/** RocketMQ's brokerName of group `index`. */
export const brokerName = (index: number) => `broker-${index}`;
export const groupObjectName = (cluster: RocketMQCluster, group: string) =>
  `${cluster.metadata.name}-${group}`;
export const groupMasterServiceName = (cluster: RocketMQCluster, group: string) =>
  `${groupObjectName(cluster, group)}-master`;
export const groupConfigName = (cluster: RocketMQCluster, group: string) =>
  `${groupObjectName(cluster, group)}-config`;
export const podName = (statefulSet: string, ordinal: number) => `${statefulSet}-${ordinal}`;
/** The ordinal of a StatefulSet pod (`<set>-<ordinal>`), or of a group (`broker-<index>`); -1 if none. */
export const trailingIndex = (name: string) => Number(/-(\d+)$/.exec(name)?.[1] ?? -1);

/**
 * namesrvAddr: the stable DNS name of every NameServer pod under the headless Service. Pod IPs may
 * change; these names do not.
 */
export function nameServerAddresses(cluster: RocketMQCluster): string {
  const service = nameServerName(cluster);
  const addresses: string[] = [];
  for (let i = 0; i < cluster.spec.nameServer.replicas; i++) {
    addresses.push(
      `${podName(service, i)}.${service}.${cluster.metadata.namespace}.svc:${cluster.spec.nameServer.port}`,
    );
  }
  return addresses.join(';');
}

/** The remoting address of a broker pod by its stable DNS name under the group's headless Service. */
export function brokerPodAddress(cluster: RocketMQCluster, group: string, ordinal: number): string {
  const service = groupObjectName(cluster, group);
  return `${podName(service, ordinal)}.${service}.${cluster.metadata.namespace}.svc:${BROKER_LISTEN_PORT}`;
}
