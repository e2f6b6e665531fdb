import type { FailoverStateStore, GroupFailoverState } from '../../failover/state-store';
import type { GroupStatus, RocketMQCluster } from '../api/types';
import { withDefaults } from '../api/cluster';
import { isApiError, type KubeGateway } from '../controller/kube-gateway';
import { groupObjectName, podName } from '../reconcile/names';

/** Attempts at a status write that keeps meeting concurrent writers (409) before giving up. */
const CONFLICT_RETRIES = 5;

/**
 * The failover decision of one cluster's groups, recorded in the RocketMQCluster's status
 * (status.groups[].epoch and .masterPod): the one consistent place on Kubernetes. Every write is
 * conditional on the resourceVersion just read, and never lowers a recorded epoch, so two
 * operators (or a stale one) cannot both make a master.
 */
export class KubeStateStore implements FailoverStateStore {
  constructor(
    private readonly kube: KubeGateway,
    private readonly namespace: string,
    private readonly name: string,
    /** The remoting address of a group's broker pod at `ordinal`, as the controller dials it. */
    private readonly addressOf: (
      cluster: RocketMQCluster,
      group: string,
      ordinal: number,
    ) => string,
  ) {}

  async load(group: string): Promise<GroupFailoverState | undefined> {
    const cluster = await this.read();
    const recorded = cluster.status?.groups?.find((g) => g.name === group);
    // Epoch 0 is what status shows before any election: nothing decided yet.
    if (recorded === undefined || recorded.epoch === 0) return undefined;
    const ordinal = Number(/-(\d+)$/.exec(recorded.masterPod)?.[1] ?? -1);
    if (ordinal < 0) throw new Error(`status of group ${group} names no master pod`);
    return { epoch: recorded.epoch, masterAddr: this.addressOf(cluster, group, ordinal) };
  }

  async save(group: string, state: GroupFailoverState): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const cluster = await this.read();
      const groups = [...(cluster.status?.groups ?? [])];
      const at = groups.findIndex((g) => g.name === group);
      const previous: GroupStatus = groups[at] ?? {
        name: group,
        masterPod: '',
        epoch: 0,
        replicas: [],
      };
      if (previous.epoch >= state.epoch) {
        throw new Error(
          `group ${group}: epoch ${previous.epoch} is already recorded; refusing epoch ${state.epoch}`,
        );
      }
      const next = {
        ...previous,
        epoch: state.epoch,
        masterPod: this.podOf(cluster, group, state.masterAddr),
      };
      if (at >= 0) groups[at] = next;
      else groups.push(next);
      try {
        await this.kube.patchStatus(cluster, { ...cluster.status, groups });
        return;
      } catch (err) {
        if (!isApiError(err, 409) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  private podOf(cluster: RocketMQCluster, group: string, addr: string): string {
    const sts = groupObjectName(cluster, group);
    for (let ordinal = 0; ordinal < cluster.spec.broker.replicasPerGroup; ordinal++) {
      if (this.addressOf(cluster, group, ordinal) === addr) return podName(sts, ordinal);
    }
    throw new Error(`group ${group}: ${addr} is not one of its pods`);
  }

  private async read(): Promise<RocketMQCluster> {
    const cluster = await this.kube.getCluster(this.namespace, this.name);
    if (cluster === undefined)
      throw new Error(`RocketMQCluster ${this.namespace}/${this.name} is gone`);
    return withDefaults(cluster);
  }
}
