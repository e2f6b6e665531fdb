import type {
  V1ConfigMap,
  V1Container,
  V1PodDisruptionBudget,
  V1PodTemplateSpec,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { FailoverState, RocketMQCluster } from '../api/types';
import { brokerConf, commonBrokerConfig, configHash } from './broker-config';
import {
  BROKER_FAST_PORT,
  BROKER_HA_PORT,
  BROKER_LISTEN_PORT,
  brokerName,
  CONFIG_DIR,
  CONFIG_HASH_ANNOTATION,
  clusterLabels,
  groupConfigName,
  groupMasterServiceName,
  groupObjectName,
  podName,
  ROLE_LABEL,
  selectorLabels,
  STORE_PATH,
  TEMPLATE_HASH_ANNOTATION,
} from './names';
import { httpProbe, metricsAnnotations, scheduling, sysctlInitContainer } from './pod-spec';
import { headlessService } from './services';

const BROKER_CONF = `${CONFIG_DIR}/$(POD_NAME).conf`;

/** The broker container: `rocketmq-ts broker -c <its own broker.conf>`, store on the PVC. */
function brokerContainer(cluster: RocketMQCluster): V1Container {
  const { spec } = cluster;
  // With OS tuning the open-files limit is raised before the broker starts.
  const launch = spec.osTuning.enabled
    ? {
        command: ['sh', '-c'],
        args: [
          `ulimit -n ${spec.osTuning.nofile} || echo "cannot raise open files to ${spec.osTuning.nofile}" >&2; ` +
            `exec rocketmq-ts broker -c "${CONFIG_DIR}/$POD_NAME.conf"`,
        ],
      }
    : { args: ['broker', '-c', BROKER_CONF] };
  return {
    name: 'broker',
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    ...launch,
    env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    ports: [
      { name: 'broker', containerPort: BROKER_LISTEN_PORT },
      { name: 'fast', containerPort: BROKER_FAST_PORT },
      { name: 'ha', containerPort: BROKER_HA_PORT },
      { name: 'metrics', containerPort: spec.metrics.port },
    ],
    resources: spec.broker.resources,
    readinessProbe: httpProbe('/readyz', spec.metrics.port, 5, 3),
    livenessProbe: httpProbe('/healthz', spec.metrics.port, 10, 6),
    volumeMounts: [
      { name: 'store', mountPath: STORE_PATH },
      { name: 'config', mountPath: CONFIG_DIR },
    ],
  };
}

/** The template with {@link TEMPLATE_HASH_ANNOTATION} set to the digest of everything else in it. */
function withTemplateHash(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const annotations = { ...template.metadata?.annotations };
  annotations[TEMPLATE_HASH_ANNOTATION] = configHash(template);
  return { ...template, metadata: { ...template.metadata, annotations } };
}

/** The template digest the group's pods should carry: a pod with another one is rolled. */
export function desiredTemplateHash(cluster: RocketMQCluster, groupIndex: number): string {
  const sts = brokerGroupObjects(cluster, groupIndex, new Map())[3];
  return sts.spec?.template.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION] ?? '';
}

/**
 * One broker group: a StatefulSet whose pod `ordinal` reads `<pod name>.conf` (brokerId and role
 * differ per pod), a headless Service, a Service that selects the current master, a ConfigMap
 * and a PodDisruptionBudget that keeps at most one broker of the group down.
 */
export function brokerGroupObjects(
  cluster: RocketMQCluster,
  groupIndex: number,
  failover: FailoverState,
): [V1ConfigMap, V1Service, V1Service, V1StatefulSet, V1PodDisruptionBudget] {
  const { spec, metadata } = cluster;
  const group = brokerName(groupIndex);
  const name = groupObjectName(cluster, group);
  const selector = selectorLabels(cluster, 'broker', group);
  const labels = { ...clusterLabels(cluster), ...selector };
  const meta = (objectName: string) => ({
    name: objectName,
    namespace: metadata.namespace,
    labels,
  });
  const brokerPorts = [
    { name: 'broker', port: BROKER_LISTEN_PORT, targetPort: BROKER_LISTEN_PORT },
    { name: 'fast', port: BROKER_FAST_PORT, targetPort: BROKER_FAST_PORT },
  ];

  const data: Record<string, string> = {};
  for (let ordinal = 0; ordinal < spec.broker.replicasPerGroup; ordinal++) {
    data[`${podName(name, ordinal)}.conf`] = brokerConf(cluster, groupIndex, ordinal, failover);
  }
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(groupConfigName(cluster, group)),
    data,
  };

  const headless = headlessService(cluster, meta(name), selector, [
    ...brokerPorts,
    { name: 'ha', port: BROKER_HA_PORT, targetPort: BROKER_HA_PORT },
  ]);
  const master: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(groupMasterServiceName(cluster, group)),
    spec: { selector: { ...selector, [ROLE_LABEL]: 'master' }, ports: brokerPorts },
  };

  const hash = configHash({
    conf: commonBrokerConfig(cluster, groupIndex),
    overrides: spec.broker.config,
    image: spec.image,
    osTuning: spec.osTuning,
  });
  const template = withTemplateHash({
    metadata: {
      labels,
      annotations: { [CONFIG_HASH_ANNOTATION]: hash, ...metricsAnnotations(cluster) },
    },
    spec: {
      ...scheduling(cluster, selector),
      ...(spec.osTuning.enabled ? { initContainers: [sysctlInitContainer(cluster)] } : {}),
      // The broker flushes and closes its store on SIGTERM; give it time.
      terminationGracePeriodSeconds: 60,
      containers: [brokerContainer(cluster)],
      volumes: [{ name: 'config', configMap: { name: groupConfigName(cluster, group) } }],
    },
  });
  const statefulSet: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(name),
    spec: {
      serviceName: name,
      replicas: spec.broker.replicasPerGroup,
      podManagementPolicy: 'Parallel',
      // The operator restarts pods itself (rolling/): slaves first, then mastership handed to an
      // in-sync slave, then the old master. The StatefulSet controller only recreates deleted pods.
      updateStrategy: { type: 'OnDelete' },
      selector: { matchLabels: selector },
      persistentVolumeClaimRetentionPolicy: {
        whenScaled: spec.broker.storage.deleteClaimsOnScaleIn ? 'Delete' : 'Retain',
        whenDeleted: 'Retain',
      },
      template,
      volumeClaimTemplates: [
        {
          metadata: { name: 'store', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: spec.broker.storage.size } },
            ...(spec.broker.storage.storageClassName
              ? { storageClassName: spec.broker.storage.storageClassName }
              : {}),
          },
        },
      ],
    },
  };
  const pdb: V1PodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(name),
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };
  return [configMap, headless, master, statefulSet, pdb];
}
