import type { SchemaProps } from './schema-types';

/**
 * The OpenAPI v3 schema of RocketMQCluster: the single source of defaults, bounds and enums.
 * The CRD YAML in crds/ is generated from it, and the operator applies the same defaults to
 * whatever it reads, so a cluster behaves the same whether or not the API server defaulted it.
 */

/** RocketMQ's os.sh recommendations (broker-internals §15.2); vm.* sysctls are node-wide. */
export const RECOMMENDED_SYSCTLS: Readonly<Record<string, string>> = {
  'vm.max_map_count': '655360',
  'vm.swappiness': '10',
  'vm.overcommit_memory': '1',
  'vm.zone_reclaim_mode': '0',
  'vm.dirty_background_ratio': '50',
  'vm.dirty_ratio': '50',
  'vm.dirty_writeback_centisecs': '360000',
  'vm.page-cluster': '3',
};

const stringMap = (description: string, defaults: Record<string, string> = {}): SchemaProps => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
  default: defaults,
});

const integer = (description: string, min: number, max: number, def: number): SchemaProps => ({
  type: 'integer',
  description,
  minimum: min,
  maximum: max,
  default: def,
});

const bool = (description: string, def: boolean): SchemaProps => ({
  type: 'boolean',
  description,
  default: def,
});

const object = (
  description: string,
  properties: Record<string, SchemaProps>,
  required?: string[],
): SchemaProps => ({
  type: 'object',
  description,
  properties,
  ...(required ? { required } : {}),
  default: {},
});

/** Kubernetes types the API server already validates inside pods; kept opaque here. */
const opaqueObject = (description: string): SchemaProps => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
  default: {},
});
const opaqueList = (description: string): SchemaProps => ({
  type: 'array',
  description,
  items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  default: [],
});

const QUANTITY_PATTERN = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$';

export const specSchema: SchemaProps = object(
  'Desired state of a RocketMQ cluster: NameServers and master/slave broker groups.',
  {
    image: {
      type: 'string',
      description: 'Container image with the rocketmq-ts CLI as entrypoint.',
      minLength: 1,
      default: 'rocketmq-ts:latest',
    },
    imagePullPolicy: {
      type: 'string',
      enum: ['Always', 'IfNotPresent', 'Never'],
      default: 'IfNotPresent',
    },
    nameServer: object('The NameServers (route registry).', {
      replicas: integer('Number of NameServer pods.', 1, 9, 2),
      port: integer('NameServer listen port.', 1, 65535, 9876),
      resources: opaqueObject('Resource requests and limits of a NameServer container.'),
    }),
    broker: object('The broker groups.', {
      groups: integer('Number of broker groups (brokerName broker-0, broker-1, …).', 1, 64, 1),
      replicasPerGroup: integer('Brokers per group: one master plus slaves.', 1, 5, 2),
      scaleInDrainSeconds: integer(
        'How long a removed group may take to have its queues consumed before scale-in stops and waits for the force annotation.',
        0,
        604800,
        600,
      ),
      replicationMode: {
        type: 'string',
        description: 'SYNC: a send is acknowledged once a slave has it (SYNC_MASTER).',
        enum: ['SYNC', 'ASYNC'],
        default: 'ASYNC',
      },
      flushDiskType: {
        type: 'string',
        enum: ['ASYNC_FLUSH', 'SYNC_FLUSH'],
        default: 'ASYNC_FLUSH',
      },
      storage: object('One PersistentVolumeClaim per broker.', {
        size: {
          type: 'string',
          description: 'Requested size of each broker store.',
          pattern: QUANTITY_PATTERN,
          default: '10Gi',
        },
        storageClassName: {
          type: 'string',
          description: 'Storage class; cluster default if unset.',
        },
        deleteClaimsOnScaleIn: bool('Delete the PVCs of removed brokers.', false),
        deleteClaimsOnClusterDeletion: bool(
          'Delete all broker PVCs when the RocketMQCluster is deleted.',
          false,
        ),
      }),
      config: stringMap('broker.conf overrides (RocketMQ key → value).'),
      resources: opaqueObject('Resource requests and limits of a broker container.'),
    }),
    failover: object('Automatic master failover by the operator.', {
      enabled: bool('Promote an in-sync slave when a master is lost.', true),
      detectionSeconds: integer('How long a master must be unreachable.', 5, 600, 30),
    }),
    osTuning: object(
      'Node tuning by a privileged init container; off by default because it changes the node.',
      {
        enabled: bool('Run the privileged sysctl init container.', false),
        sysctls: stringMap('sysctl name → value.', RECOMMENDED_SYSCTLS),
        nofile: integer('Open-files limit of the broker process.', 1024, 1048576, 655350),
      },
    ),
    scheduling: object('Pod placement.', {
      groupAntiAffinity: {
        type: 'string',
        description: 'Keep the replicas of one group on different nodes.',
        enum: ['Required', 'Preferred', 'None'],
        default: 'Preferred',
      },
      topologySpreadConstraints: opaqueList('Added to every pod.'),
      nodeSelector: stringMap('Added to every pod.'),
      tolerations: opaqueList('Added to every pod.'),
    }),
    metrics: object('Prometheus metrics.', {
      enabled: bool('Expose the metrics port and annotate pods for scraping.', true),
      port: integer('HTTP port of /metrics, /healthz and /readyz.', 1, 65535, 9880),
      serviceMonitor: object('A prometheus-operator ServiceMonitor.', {
        enabled: bool('Create a ServiceMonitor (needs the prometheus-operator CRDs).', false),
        interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$', default: '30s' },
      }),
    }),
  },
);

const conditionSchema: SchemaProps = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', enum: ['Ready', 'Progressing', 'Degraded', 'Paused'] },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', minimum: 0 },
  },
};

export const statusSchema: SchemaProps = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer' },
    conditions: { type: 'array', items: conditionSchema },
    nameServer: {
      type: 'object',
      properties: {
        addresses: { type: 'string', description: 'namesrvAddr for clients (host:port;…).' },
        readyReplicas: { type: 'integer' },
      },
    },
    readyGroups: { type: 'string', description: 'ready/total broker groups.' },
    groups: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          masterPod: { type: 'string' },
          epoch: { type: 'integer' },
          replicas: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                pod: { type: 'string' },
                brokerId: { type: 'integer' },
                role: { type: 'string', enum: ['MASTER', 'SLAVE', 'FENCED'] },
                ready: { type: 'boolean' },
                replicationLagBytes: {
                  type: 'integer',
                  description: "Bytes of the master's CommitLog the replica does not have.",
                },
              },
            },
          },
        },
      },
    },
    operation: {
      type: 'object',
      description: 'A long operation in flight, so a restarted operator resumes it.',
      properties: {
        type: { type: 'string', enum: ['Failover', 'ScaleIn', 'RollingUpdate'] },
        group: { type: 'string' },
        phase: { type: 'string' },
        message: { type: 'string' },
        startedAt: { type: 'string', format: 'date-time' },
      },
    },
  },
};

export const clusterSchema: SchemaProps = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
  required: ['spec'],
};
