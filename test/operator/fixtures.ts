import { withDefaults } from '../../operator/api/cluster';
import {
  API_GROUP_VERSION,
  KIND,
  type RocketMQCluster,
  type RocketMQClusterSpec,
} from '../../operator/api/types';

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

/** A defaulted cluster named `demo` in namespace `rmq`, with the given spec fields set. */
export function clusterWith(
  spec: DeepPartial<RocketMQClusterSpec> = {},
  name = 'demo',
): RocketMQCluster {
  return withDefaults({
    apiVersion: API_GROUP_VERSION,
    kind: KIND,
    metadata: { name, namespace: 'rmq', uid: 'uid-1', generation: 1 },
    spec: spec as RocketMQClusterSpec,
  });
}
