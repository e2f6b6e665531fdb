import type { V1Pod } from '@kubernetes/client-node';
import type { HaAdminClient } from '../../client/ha-admin';
import type { HaStatus } from '../../common/protocol/ha-bodies';
import type { BrokerRole, FailoverState, RocketMQCluster } from '../api/types';
import type { AddressResolver } from '../failover/failover-manager';
import { masterOrdinal } from '../reconcile/broker-config';
import { failoverStateOf } from '../reconcile/desired';
import { brokerPodAddress, GROUP_LABEL, trailingIndex } from '../reconcile/names';
import { podReady } from './status';

/** What one broker pod says about its replication (HA_GET_STATUS). */
export interface ReplicaReplication {
  role: BrokerRole;
  epoch: number;
  maxPhyOffset: number;
  /** Bytes of the master's CommitLog it does not have; undefined when no master answered. */
  lagBytes?: number;
}

/** Pod name → its answer; a pod that did not answer is absent. */
export type ReplicationView = ReadonlyMap<string, ReplicaReplication>;

/**
 * The replication view of one group from its brokers' answers (pod name → HA status), pure. The
 * master is the broker answering MASTER in the highest epoch; every other broker's lag is how far
 * its CommitLog end is behind the master's. The two ends are read a moment apart, so under load
 * a lag is approximate (never negative).
 */
export function replicationView(
  answers: ReadonlyMap<string, Pick<HaStatus, 'role' | 'epoch' | 'maxPhyOffset'>>,
): ReplicationView {
  let master: Pick<HaStatus, 'role' | 'epoch' | 'maxPhyOffset'> | undefined;
  for (const status of answers.values()) {
    if (status.role === 'MASTER' && (master === undefined || status.epoch > master.epoch)) {
      master = status;
    }
  }
  const view = new Map<string, ReplicaReplication>();
  for (const [pod, status] of answers) {
    view.set(pod, {
      role: status.role,
      epoch: status.epoch,
      maxPhyOffset: status.maxPhyOffset,
      lagBytes:
        master === undefined
          ? undefined
          : status === master
            ? 0
            : Math.max(0, master.maxPhyOffset - status.maxPhyOffset),
    });
  }
  return view;
}

/**
 * True when every broker that answered has the role recorded for it: the recorded master of its
 * group answers MASTER, the others SLAVE. Otherwise a change is under way (a new master not yet
 * told, a restarted broker not yet re-pointed) and the view is soon out of date.
 */
export function viewSettled(
  view: ReplicationView,
  groupOf: (pod: string) => string | undefined,
  failover: FailoverState,
): boolean {
  return [...view].every(([pod, r]) => {
    const group = groupOf(pod);
    if (group === undefined) return true;
    return r.role === (trailingIndex(pod) === masterOrdinal(failover, group) ? 'MASTER' : 'SLAVE');
  });
}

interface Cached {
  at: number;
  /** What the view was taken for: the recorded masters and the ready pods. */
  basis: string;
  view: ReplicationView;
  settled: boolean;
}

/**
 * Asks broker pods for their HA status. The roll asks afresh before every step. Status uses a
 * settled view up to `maxAgeMs` old (taken for the same recorded masters and ready pods), so that
 * a lag changing under load does not make every reconcile write status (each write triggers
 * another reconcile); a view that is not settled is never reused.
 */
export class ReplicationProbe {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly admin: HaAdminClient,
    private readonly resolve: AddressResolver = (addr) => addr,
  ) {}

  /** The group's view now, asking every listed pod of it. */
  async group(
    cluster: RocketMQCluster,
    group: string,
    pods: readonly string[],
  ): Promise<ReplicationView> {
    const answers = await Promise.all(
      pods.map((pod) =>
        this.admin.status(this.resolve(brokerPodAddress(cluster, group, trailingIndex(pod)))).then(
          (status): [string, HaStatus] | undefined => [pod, status],
          () => undefined,
        ),
      ),
    );
    return replicationView(new Map(answers.filter((a) => a !== undefined)));
  }

  /** Every group's view of the cluster's ready broker pods (see the class comment on reuse). */
  async cluster(
    cluster: RocketMQCluster,
    brokerPods: readonly V1Pod[],
    maxAgeMs: number,
  ): Promise<ReplicationView> {
    const key = `${cluster.metadata.namespace}/${cluster.metadata.name}`;
    const failover = failoverStateOf(cluster);
    const ready = brokerPods.filter(podReady);
    const basis = JSON.stringify([[...failover], ready.map((p) => p.metadata?.uid).sort()]);
    const cached = this.cache.get(key);
    if (
      cached !== undefined &&
      cached.settled &&
      cached.basis === basis &&
      Date.now() - cached.at < maxAgeMs
    ) {
      return cached.view;
    }
    const groupOf = new Map<string, string>();
    const byGroup = new Map<string, string[]>();
    for (const pod of ready) {
      const group = pod.metadata?.labels?.[GROUP_LABEL];
      const name = pod.metadata?.name;
      if (group === undefined || name === undefined) continue;
      groupOf.set(name, group);
      byGroup.set(group, [...(byGroup.get(group) ?? []), name]);
    }
    const views = await Promise.all(
      [...byGroup].map(([group, pods]) => this.group(cluster, group, pods)),
    );
    const view = new Map(views.flatMap((v) => [...v]));
    const settled = viewSettled(view, (pod) => groupOf.get(pod), failover);
    this.cache.set(key, { at: Date.now(), basis, view, settled });
    return view;
  }

  /** False while the last view of the cluster showed a change under way: look again soon. */
  settled(namespace: string, name: string): boolean {
    return this.cache.get(`${namespace}/${name}`)?.settled ?? true;
  }

  forget(namespace: string, name: string): void {
    this.cache.delete(`${namespace}/${name}`);
  }
}
