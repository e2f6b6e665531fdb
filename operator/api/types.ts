import type {
  V1ObjectMeta,
  V1ResourceRequirements,
  V1Toleration,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';

/** The custom resource's coordinates, chosen once. */
export const API_GROUP = 'rocketmq-ts.dev';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const KIND = 'RocketMQCluster';
export const PLURAL = 'rocketmqclusters';
export const SINGULAR = 'rocketmqcluster';
export const SHORT_NAMES = ['rmq', 'rmqc'];

/** Annotation that, set to "true", makes the operator leave the cluster's objects alone. */
export const PAUSE_ANNOTATION = `${API_GROUP}/paused`;
/**
 * Annotation that, set to "true", lets scale-in remove a broker group whose queues still hold
 * unconsumed messages once the drain time is over (they are lost with the group).
 */
export const FORCE_SCALE_IN_ANNOTATION = `${API_GROUP}/force-scale-in`;
/** Finalizer the operator puts on every cluster so deletion can honour the PVC policy. */
export const FINALIZER = `${API_GROUP}/cleanup`;

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
export type ReplicationMode = 'SYNC' | 'ASYNC';
export type FlushDiskType = 'ASYNC_FLUSH' | 'SYNC_FLUSH';
/** How strongly the replicas of one broker group are kept off the same node. */
export type GroupAntiAffinity = 'Required' | 'Preferred' | 'None';

export interface NameServerSpec {
  replicas: number;
  port: number;
  resources: V1ResourceRequirements;
}

export interface BrokerStorageSpec {
  size: string;
  storageClassName?: string;
  /** Delete a broker's PVC when its group or replica is removed (StatefulSet `whenScaled`). */
  deleteClaimsOnScaleIn: boolean;
  /** Delete all broker PVCs when the RocketMQCluster itself is deleted (the finalizer does it). */
  deleteClaimsOnClusterDeletion: boolean;
}

export interface BrokerSpec {
  groups: number;
  replicasPerGroup: number;
  /** Seconds a removed group's queues may take to be consumed before scale-in waits for force. */
  scaleInDrainSeconds: number;
  replicationMode: ReplicationMode;
  flushDiskType: FlushDiskType;
  storage: BrokerStorageSpec;
  /** broker.conf overrides, RocketMQ key → value; applied after the operator's own keys. */
  config: Record<string, string>;
  resources: V1ResourceRequirements;
}

export interface FailoverSpec {
  enabled: boolean;
  detectionSeconds: number;
}

export interface OsTuningSpec {
  enabled: boolean;
  /** sysctl name → value, RocketMQ's os.sh recommendations by default. */
  sysctls: Record<string, string>;
  /** Open-files limit the broker is started with (`ulimit -n`). */
  nofile: number;
}

export interface SchedulingSpec {
  groupAntiAffinity: GroupAntiAffinity;
  topologySpreadConstraints: V1TopologySpreadConstraint[];
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
}

export interface MetricsSpec {
  enabled: boolean;
  /** The HTTP port of /metrics, /healthz and /readyz in every namesrv and broker pod. */
  port: number;
  serviceMonitor: { enabled: boolean; interval: string };
}

export interface RocketMQClusterSpec {
  image: string;
  imagePullPolicy: PullPolicy;
  nameServer: NameServerSpec;
  broker: BrokerSpec;
  failover: FailoverSpec;
  osTuning: OsTuningSpec;
  scheduling: SchedulingSpec;
  metrics: MetricsSpec;
}

export type ConditionType = 'Ready' | 'Progressing' | 'Degraded' | 'Paused';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A condition in the shape of metav1.Condition. */
export interface ClusterCondition {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

/** FENCED: a broker under the failover controller that has not been told its role yet. */
export type BrokerRole = 'MASTER' | 'SLAVE' | 'FENCED';

export interface ReplicaStatus {
  pod: string;
  brokerId: number;
  /** As the broker answers it (HA status); the recorded role while it does not answer. */
  role: BrokerRole;
  ready: boolean;
  /**
   * Bytes of the master's CommitLog the replica does not have (0 for the master); absent while
   * the replica or its master does not answer.
   */
  replicationLagBytes?: number;
}

export interface GroupStatus {
  name: string;
  masterPod: string;
  /** Failover epoch: bumped every time the group's master changes. */
  epoch: number;
  replicas: ReplicaStatus[];
}

/**
 * A long operation in flight (failover, drain before scale-in, rolling restart), recorded so a
 * restarted operator resumes it. Written by the controllers that run those operations.
 */
export interface OperationStatus {
  type: 'Failover' | 'ScaleIn' | 'RollingUpdate';
  group: string;
  phase: string;
  /** What the operation waits for, when it waits. */
  message?: string;
  startedAt: string;
}

export interface RocketMQClusterStatus {
  observedGeneration?: number;
  conditions?: ClusterCondition[];
  nameServer?: { addresses: string; readyReplicas: number };
  groups?: GroupStatus[];
  readyGroups?: string;
  operation?: OperationStatus;
}

/** Object metadata with the name and namespace a stored cluster always has. */
export type ObjectMeta = V1ObjectMeta & { name: string; namespace: string };

/** A RocketMQCluster as the API server returns it (defaults applied). */
export interface RocketMQCluster {
  apiVersion: typeof API_GROUP_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: RocketMQClusterSpec;
  status?: RocketMQClusterStatus;
}

/** The master of each group as recorded by failover; a group not listed has ordinal 0 as master. */
export type FailoverState = ReadonlyMap<string, { masterOrdinal: number; epoch: number }>;
