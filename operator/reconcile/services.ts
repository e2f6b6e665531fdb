import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { RocketMQCluster } from '../api/types';

/**
 * A headless Service giving each pod of a StatefulSet a stable DNS name. Not-ready pods are
 * published too: peers (brokers registering, slaves following) must resolve them while starting.
 * The metrics port is added when metrics are on.
 */
export function headlessService(
  cluster: RocketMQCluster,
  metadata: V1Service['metadata'],
  selector: Record<string, string>,
  ports: V1ServicePort[],
): V1Service {
  const { metrics } = cluster.spec;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector,
      ports: [
        ...ports,
        ...(metrics.enabled
          ? [{ name: 'metrics', port: metrics.port, targetPort: metrics.port }]
          : []),
      ],
    },
  };
}
