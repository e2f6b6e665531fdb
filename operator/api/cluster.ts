import { applyDefaults } from './schema-types';
import { specSchema } from './schema';
import {
  FINALIZER,
  PAUSE_ANNOTATION,
  type RocketMQCluster,
  type RocketMQClusterSpec,
} from './types';

/**
 * The cluster with every schema default filled in. The API server defaults too, but the operator
 * must not depend on it (an old CRD, a test server), so it applies the same schema itself.
 */
export function withDefaults(cluster: RocketMQCluster): RocketMQCluster {
  return { ...cluster, spec: applyDefaults(specSchema, cluster.spec ?? {}) as RocketMQClusterSpec };
}

export function isPaused(cluster: RocketMQCluster): boolean {
  return cluster.metadata.annotations?.[PAUSE_ANNOTATION] === 'true';
}

export function isBeingDeleted(cluster: RocketMQCluster): boolean {
  return (
    cluster.metadata.deletionTimestamp !== undefined && cluster.metadata.deletionTimestamp !== null
  );
}

export function hasFinalizer(cluster: RocketMQCluster): boolean {
  return cluster.metadata.finalizers?.includes(FINALIZER) ?? false;
}
