import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger';
import type { OperationStatus, RocketMQCluster } from '../api/types';
import { withDefaults } from '../api/cluster';
import { recordEvent } from '../controller/events';
import type { EventType, KubeGateway } from '../controller/kube-gateway';
import type { ReplicationProbe } from '../controller/replication';
import { podReady } from '../controller/status';
import type { AddressResolver, FailoverManager } from '../failover/failover-manager';
import { desiredTemplateHash } from '../reconcile/broker-group';
import { failoverStateOf, groupNames } from '../reconcile/desired';
import { masterOrdinal } from '../reconcile/broker-config';
import {
  brokerPodAddress,
  groupObjectName,
  GROUP_LABEL,
  labelSelectorString,
  podName,
  selectorLabels,
  TEMPLATE_HASH_ANNOTATION,
  trailingIndex,
} from '../reconcile/names';
import { nextRollStep, ROLL_MAX_LAG_BYTES, type RollReplica, type RollStep } from './roll-plan';

/** How often a roll in flight is looked at again (readiness, replication catching up). */
export const ROLL_RECHECK_MS = 1000;
/** How long after a failed switchover it is tried again. */
const SWITCHOVER_RETRY_MS = 10_000;

export type RollPhase = 'Waiting' | 'RestartingSlave' | 'SwitchingOver' | 'RestartingMaster';

const templateOf = (pod: V1Pod) => pod.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION];
const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Rolling restarts of broker groups whose pods run an outdated template (broker StatefulSets use
 * OnDelete, so only the operator restarts them), a state machine in status.operation so a
 * restarted operator resumes it. One group at a time, one pod at a time, each waited on until it
 * is ready and every slave follows the master within {@link ROLL_MAX_LAG_BYTES}: outdated slaves
 * first, then the group's failover controller hands mastership to an updated in-sync slave
 * (switchover), then the old master, a slave by then, is restarted. Without failover the master
 * is restarted last in place, and the group takes no writes until it is back. Every decision is
 * read afresh from the API server and the brokers, so a step is never taken on a stale view.
 */
export class RollingUpdate {
  constructor(
    private readonly kube: KubeGateway,
    private readonly replication: ReplicationProbe,
    private readonly failover: FailoverManager,
    private readonly logger: Logger,
    private readonly resolve: AddressResolver = (addr) => addr,
  ) {}

  /**
   * One step for the cluster (its objects just applied; `cachedPods` its broker pods in the watch
   * cache). Resolves with when to look again (ms), or undefined when no roll is in flight.
   */
  async step(cached: RocketMQCluster, cachedPods: readonly V1Pod[]): Promise<number | undefined> {
    const op = cached.status?.operation;
    if (op !== undefined && op.type !== 'RollingUpdate') return undefined;
    // The watch cache says whether there may be anything to do; decisions use the API server.
    if (op === undefined && this.outdatedGroups(cached, cachedPods).length === 0) return undefined;
    const { namespace } = cached.metadata;
    const pods = (
      await this.kube.listPods(namespace, labelSelectorString(selectorLabels(cached, 'broker')))
    ).filter((p) => p.metadata?.deletionTimestamp == null);
    const outdated = this.outdatedGroups(cached, pods);
    if (op === undefined && outdated.length === 0) return undefined;
    // Operation writes are conditional: work from the cluster as it is now.
    const raw = await this.kube.getCluster(namespace, cached.metadata.name);
    if (raw === undefined) return undefined;
    const cluster = withDefaults(raw);
    const current = cluster.status?.operation;
    if (current !== undefined && current.type !== 'RollingUpdate') return undefined;
    if (current === undefined) {
      const group = outdated[0];
      await this.kube.patchOperation(cluster, {
        type: 'RollingUpdate',
        group,
        phase: 'Waiting',
        startedAt: nowIso(),
      });
      await this.event(
        cluster,
        'Normal',
        'RollingUpdateStarted',
        `group ${group}: restarting its brokers with template ${desiredTemplateHash(cluster, trailingIndex(group))}, slaves first, then the master after handing over`,
      );
      return 0;
    }
    if (!groupNames(cluster).includes(current.group)) {
      // The group left the spec (scale-in takes it from here).
      await this.kube.patchOperation(cluster, null);
      return 0;
    }
    const step = nextRollStep({
      masterPod: podName(
        groupObjectName(cluster, current.group),
        masterOrdinal(failoverStateOf(cluster), current.group),
      ),
      replicas: await this.replicas(cluster, current.group, pods),
      failoverEnabled: cluster.spec.failover.enabled,
      maxLagBytes: ROLL_MAX_LAG_BYTES,
    });
    return this.take(cluster, current, step, pods, outdated);
  }

  private async take(
    cluster: RocketMQCluster,
    op: OperationStatus,
    step: RollStep,
    pods: readonly V1Pod[],
    outdated: readonly string[],
  ): Promise<number | undefined> {
    const group = op.group;
    switch (step.action) {
      case 'done': {
        await this.kube.patchOperation(cluster, null);
        const seconds = Math.round((Date.now() - Date.parse(op.startedAt)) / 1000);
        await this.event(
          cluster,
          'Normal',
          'RollingUpdateFinished',
          `group ${group}: every broker runs the new template (${seconds} s)`,
        );
        this.logger.info({ cluster: cluster.metadata.name, group, seconds }, 'group rolled');
        return outdated.some((g) => g !== group) ? 0 : undefined;
      }
      case 'wait':
        await this.setOperation(cluster, op, 'Waiting', step.reason);
        return ROLL_RECHECK_MS;
      case 'restartSlave':
        await this.setOperation(cluster, op, 'RestartingSlave', `restarting slave ${step.pod}`);
        await this.event(cluster, 'Normal', 'RestartingSlave', `group ${group}: ${step.pod}`);
        await this.deletePod(cluster, pods, step.pod);
        return ROLL_RECHECK_MS;
      case 'restartMaster': {
        const message =
          step.why === 'failover disabled'
            ? `restarting master ${step.pod} without a handover (failover is disabled): the group takes no writes until it is back`
            : `restarting master ${step.pod}, the group's only broker: the group takes no writes until it is back`;
        await this.setOperation(cluster, op, 'RestartingMaster', message);
        await this.event(cluster, 'Warning', 'RestartingMaster', `group ${group}: ${message}`);
        await this.deletePod(cluster, pods, step.pod);
        return ROLL_RECHECK_MS;
      }
      case 'switchover':
        return this.switchover(cluster, op, step.from, step.to);
    }
  }

  /** Hands mastership to `to`; the old master, a slave afterwards, is restarted by a later step. */
  private async switchover(
    cluster: RocketMQCluster,
    op: OperationStatus,
    from: string,
    to: string,
  ): Promise<number> {
    const group = op.group;
    await this.setOperation(
      cluster,
      op,
      'SwitchingOver',
      `handing mastership from ${from} to ${to}`,
    );
    await this.event(
      cluster,
      'Normal',
      'SwitchoverStarted',
      `group ${group}: handing mastership from ${from} to ${to} before restarting ${from}`,
    );
    const target = this.resolve(brokerPodAddress(cluster, group, trailingIndex(to)));
    const started = Date.now();
    try {
      const { epoch } = await this.failover.switchover(cluster, group, target);
      const ms = Date.now() - started;
      this.logger.info(
        { cluster: cluster.metadata.name, group, from, to, epoch, ms },
        'switched over',
      );
      await this.event(
        cluster,
        'Normal',
        'SwitchedOver',
        `group ${group}: ${to} is master in epoch ${epoch}, replacing ${from} (${ms} ms); ${from} restarts next`,
      );
      return 0;
    } catch (err) {
      const message = `switchover from ${from} to ${to} failed: ${(err as Error).message}; retrying in ${SWITCHOVER_RETRY_MS / 1000} s`;
      this.logger.warn(
        { cluster: cluster.metadata.name, group, err: (err as Error).message },
        'switchover failed',
      );
      await this.event(cluster, 'Warning', 'SwitchoverFailed', `group ${group}: ${message}`);
      const latest = await this.kube.getCluster(cluster.metadata.namespace, cluster.metadata.name);
      if (latest?.status?.operation?.type === 'RollingUpdate') {
        await this.setOperation(withDefaults(latest), latest.status.operation, 'Waiting', message);
      }
      return SWITCHOVER_RETRY_MS;
    }
  }

  /** The group's replicas as the roll sees them: pods now, and what their brokers answer now. */
  private async replicas(
    cluster: RocketMQCluster,
    group: string,
    pods: readonly V1Pod[],
  ): Promise<RollReplica[]> {
    const wanted = desiredTemplateHash(cluster, trailingIndex(group));
    const sts = groupObjectName(cluster, group);
    const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
    const names = Array.from({ length: cluster.spec.broker.replicasPerGroup }, (_, o) =>
      podName(sts, o),
    );
    const view = await this.replication.group(
      cluster,
      group,
      names.filter((n) => podReady(byName.get(n))),
    );
    return names.map((name) => {
      const pod = byName.get(name);
      const answered = view.get(name);
      return {
        pod: name,
        present: pod !== undefined,
        ready: podReady(pod),
        updated: pod !== undefined && templateOf(pod) === wanted,
        role: answered?.role,
        lagBytes: answered?.lagBytes,
      };
    });
  }

  /** Groups of the spec with a pod running another template than the desired one, in order. */
  private outdatedGroups(cluster: RocketMQCluster, pods: readonly V1Pod[]): string[] {
    return groupNames(cluster).filter((group, index) => {
      const wanted = desiredTemplateHash(cluster, index);
      return pods.some(
        (p) => p.metadata?.labels?.[GROUP_LABEL] === group && templateOf(p) !== wanted,
      );
    });
  }

  private async deletePod(
    cluster: RocketMQCluster,
    pods: readonly V1Pod[],
    name: string,
  ): Promise<void> {
    const uid = pods.find((p) => p.metadata?.name === name)?.metadata?.uid ?? '';
    await this.kube.deletePod(cluster.metadata.namespace, name, uid);
    this.logger.info(
      { cluster: cluster.metadata.name, pod: name },
      'broker pod deleted for the roll',
    );
  }

  private async setOperation(
    cluster: RocketMQCluster,
    op: OperationStatus,
    phase: RollPhase,
    message: string,
  ): Promise<void> {
    if (op.phase === phase && op.message === message) return;
    await this.kube.patchOperation(cluster, { ...op, phase, message });
  }

  private event(
    cluster: RocketMQCluster,
    type: EventType,
    reason: string,
    message: string,
  ): Promise<void> {
    return recordEvent(this.kube, this.logger, cluster, type, reason, message);
  }
}
