import type { V1Pod } from '@kubernetes/client-node';
import type { BrokerConfigClient } from '../../client/broker-config-client';
import type { Logger } from '../../common/logger';
import type { RocketMQCluster } from '../api/types';
import { recordEvent } from '../controller/events';
import type { KubeGateway } from '../controller/kube-gateway';
import { podReady } from '../controller/status';
import type { AddressResolver } from '../failover/failover-manager';
import { groupNames } from '../reconcile/desired';
import {
  brokerPodAddress,
  groupObjectName,
  nameServerAddresses,
  podName,
} from '../reconcile/names';

/** RocketMQ's PermName read|write: a broker of a group in the spec takes writes. */
const READ_WRITE = '6';

/**
 * The broker settings the operator changes at run time, kept on every running broker of the
 * groups in the spec: `namesrvAddr` — the NameServer pods the spec asks for, so scaling
 * NameServers restarts no broker (the ConfigMap holds the list for the next start) — and
 * `brokerPermission` — read-write unless `broker.config` says otherwise, which undoes the
 * read-only a scale-in left on a group's stores when the group comes back. Each differing value
 * is set with UPDATE_BROKER_CONFIG (the broker takes both live and re-registers at once).
 * Brokers not ready now are told after a later reconcile (their readiness change triggers one).
 */
export class LiveBrokerConfig {
  constructor(
    private readonly kube: KubeGateway,
    private readonly brokers: BrokerConfigClient,
    private readonly logger: Logger,
    private readonly resolve: AddressResolver = (addr) => addr,
  ) {}

  async sync(cluster: RocketMQCluster, brokerPods: readonly V1Pod[]): Promise<void> {
    const wanted: Record<string, string> = {
      namesrvAddr: nameServerAddresses(cluster)
        .split(';')
        .map((a) => this.resolve(a))
        .join(';'),
      brokerPermission: cluster.spec.broker.config.brokerPermission ?? READ_WRITE,
    };
    const pods = new Map(brokerPods.map((p) => [p.metadata?.name ?? '', p]));
    const told: string[] = [];
    const keys = new Set<string>();
    for (const group of groupNames(cluster)) {
      for (let ordinal = 0; ordinal < cluster.spec.broker.replicasPerGroup; ordinal++) {
        const pod = podName(groupObjectName(cluster, group), ordinal);
        if (!podReady(pods.get(pod))) continue;
        const addr = this.resolve(brokerPodAddress(cluster, group, ordinal));
        try {
          const current = await this.brokers.get(addr);
          const changes = Object.entries(wanted).filter(([k, v]) => current.get(k) !== v);
          if (changes.length === 0) continue;
          await this.brokers.update(addr, Object.fromEntries(changes));
          told.push(pod);
          for (const [k] of changes) keys.add(k);
        } catch (err) {
          this.logger.warn(
            { cluster: cluster.metadata.name, pod, err: (err as Error).message },
            'could not update the broker settings; retried at the next reconcile',
          );
        }
      }
    }
    if (told.length === 0) return;
    this.logger.info(
      { cluster: cluster.metadata.name, brokers: told, ...wanted },
      'brokers updated',
    );
    const what = [...keys]
      .sort()
      .map((k) =>
        k === 'namesrvAddr' ? `namesrvAddr=${nameServerAddresses(cluster)}` : `${k}=${wanted[k]}`,
      )
      .join(', ');
    await recordEvent(
      this.kube,
      this.logger,
      cluster,
      'Normal',
      'BrokerConfigUpdated',
      `told ${told.join(', ')}: ${what}`,
    );
  }
}
