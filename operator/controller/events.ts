import type { Logger } from '../../common/logger';
import type { RocketMQCluster } from '../api/types';
import type { EventType, KubeGateway } from './kube-gateway';

/**
 * Records a Kubernetes Event on the cluster. An Event is informational: failing to record one is
 * logged and never fails the work that caused it.
 */
export async function recordEvent(
  kube: KubeGateway,
  logger: Logger,
  cluster: RocketMQCluster,
  type: EventType,
  reason: string,
  message: string,
): Promise<void> {
  try {
    await kube.event(cluster, type, reason, message);
  } catch (err) {
    logger.warn({ err: (err as Error).message, reason }, 'could not record event');
  }
}
