import type { V1Pod } from '@kubernetes/client-node';
import { BrokerApi } from '../../client/broker-api';
import type { BrokerConfigClient } from '../../client/broker-config-client';
import type { Logger } from '../../common/logger';
import { RemotingClient } from '../../common/net/client';
import {
  FORCE_SCALE_IN_ANNOTATION,
  type OperationStatus,
  type RocketMQCluster,
} from '../api/types';
import { recordEvent } from '../controller/events';
import type { KubeGateway } from '../controller/kube-gateway';
import { podReady } from '../controller/status';
import type { AddressResolver } from '../failover/failover-manager';
import { groupNames } from '../reconcile/desired';
import {
  brokerPodAddress,
  groupConfigName,
  groupMasterServiceName,
  groupObjectName,
  GROUP_LABEL,
  labelSelectorString,
  ROLE_LABEL,
  selectorLabels,
} from '../reconcile/names';
import { isUserTopic } from './group-topics';

/** Read-only: what a removed group's brokers are switched to (RocketMQ's PermName.PERM_READ). */
const READ_ONLY = '4';
/** How often a drain is looked at again. */
export const DRAIN_RECHECK_MS = 2000;

export type ScaleInPhase = 'DisablingWrites' | 'Draining' | 'Blocked' | 'Removing';

/**
 * The drain decision, pure: remove once nothing is left to consume; past the drain time, remove
 * only with the force annotation, else wait (Blocked) — a consumer may still catch up.
 */
export function drainDecision(
  unconsumed: number,
  elapsedMs: number,
  drainMs: number,
  force: boolean,
): 'Removing' | 'Draining' | 'Blocked' {
  if (unconsumed === 0) return 'Removing';
  if (elapsedMs < drainMs) return 'Draining';
  return force ? 'Removing' : 'Blocked';
}

/**
 * Scale-in of broker groups, a state machine in status.operation so a restarted operator resumes
 * it: a group dropped from the spec is made read-only (brokerPermission=4 on each broker, which
 * re-registers at once, so producers stop choosing it), then its queues are drained — every
 * message of its user topics consumed by every consumer group that consumes the topic, a topic
 * nobody consumes counting whole — and then its objects are deleted (PVCs too when
 * storage.deleteClaimsOnScaleIn). Past spec.broker.scaleInDrainSeconds with messages left it
 * stops (Blocked, said in the Degraded and Progressing conditions) until they are consumed or
 * the force annotation is set. One group at a time.
 */
export class ScaleIn {
  private readonly remoting: RemotingClient;
  private readonly queues: BrokerApi;

  constructor(
    private readonly kube: KubeGateway,
    private readonly brokers: BrokerConfigClient,
    private readonly logger: Logger,
    private readonly resolve: AddressResolver = (addr) => addr,
  ) {
    this.remoting = new RemotingClient({ logger });
    this.queues = new BrokerApi(this.remoting, 3000);
  }

  /**
   * One step for the cluster; `leftover` are the groups whose StatefulSets exist but the spec no
   * longer has. Resolves with when to look again (ms), or undefined when nothing is in flight.
   */
  async step(
    cached: RocketMQCluster,
    leftover: readonly string[],
    brokerPods: readonly V1Pod[],
  ): Promise<number | undefined> {
    const op = cached.status?.operation;
    if (op !== undefined && op.type !== 'ScaleIn') return undefined;
    if (leftover.length === 0 && op === undefined) return undefined;
    // Status writes are conditional: work from the cluster as it is now.
    const cluster = await this.kube.getCluster(cached.metadata.namespace, cached.metadata.name);
    if (cluster === undefined) return undefined;
    const current = cluster.status?.operation;
    if (current !== undefined && current.type !== 'ScaleIn') return undefined;
    if (current !== undefined && !leftover.includes(current.group)) {
      // Finished (or the group was put back into the spec): nothing more to do for it.
      await this.kube.patchOperation(cluster, null);
      return leftover.length > 0 ? 0 : undefined;
    }
    if (current === undefined) {
      const group = [...leftover].sort()[0];
      await this.setOperation(cluster, {
        type: 'ScaleIn',
        group,
        phase: 'DisablingWrites',
        startedAt: nowIso(),
      });
      await recordEvent(
        this.kube,
        this.logger,
        cluster,
        'Normal',
        'ScaleInStarted',
        `group ${group} is made read-only and drained before it is removed`,
      );
      return 0;
    }
    const pods = brokerPods.filter((p) => p.metadata?.labels?.[GROUP_LABEL] === current.group);
    switch (current.phase as ScaleInPhase) {
      case 'DisablingWrites':
        return this.disableWrites(cluster, current, pods);
      case 'Draining':
      case 'Blocked':
        return this.drain(cluster, current, pods);
      case 'Removing':
        await this.remove(cluster, current.group);
        await this.kube.patchOperation(cluster, null);
        return leftover.length > 1 ? 0 : undefined;
      default:
        this.logger.warn({ operation: current }, 'unknown scale-in phase; starting the group over');
        await this.setOperation(cluster, { ...current, phase: 'DisablingWrites' });
        return 0;
    }
  }

  close(): void {
    this.remoting.close();
  }

  private async disableWrites(
    cluster: RocketMQCluster,
    op: OperationStatus,
    pods: readonly V1Pod[],
  ): Promise<number> {
    const ready = pods.filter(podReady);
    for (const pod of ready) {
      await this.brokers.update(this.addressOf(cluster, op.group, pod), {
        brokerPermission: READ_ONLY,
      });
    }
    // A broker not running now reads the persisted permission when it starts.
    if (ready.length === 0) return DRAIN_RECHECK_MS;
    await this.setOperation(cluster, { ...op, phase: 'Draining', startedAt: nowIso() });
    return 0;
  }

  private async drain(
    cluster: RocketMQCluster,
    op: OperationStatus,
    pods: readonly V1Pod[],
  ): Promise<number> {
    // The last pod labelled master holds the group's offsets; a slave has them synced.
    const ready = pods.filter(podReady);
    const pod = ready.find((p) => p.metadata?.labels?.[ROLE_LABEL] === 'master') ?? ready[0];
    if (pod === undefined) return DRAIN_RECHECK_MS;
    const unconsumed = await this.unconsumed(
      cluster,
      op.group,
      this.addressOf(cluster, op.group, pod),
    );
    const force = cluster.metadata.annotations?.[FORCE_SCALE_IN_ANNOTATION] === 'true';
    const elapsed = Date.now() - Date.parse(op.startedAt);
    const next = drainDecision(
      unconsumed,
      elapsed,
      cluster.spec.broker.scaleInDrainSeconds * 1000,
      force,
    );
    if (next === 'Removing') {
      if (unconsumed > 0) {
        await recordEvent(
          this.kube,
          this.logger,
          cluster,
          'Warning',
          'ScaleInForced',
          `group ${op.group} is removed with ${unconsumed} unconsumed messages (${FORCE_SCALE_IN_ANNOTATION})`,
        );
      }
      await this.setOperation(cluster, { ...op, phase: 'Removing', message: '' });
      return 0;
    }
    const message =
      next === 'Blocked'
        ? `group ${op.group} still has ${unconsumed} unconsumed messages after ${cluster.spec.broker.scaleInDrainSeconds} s; consume them or set the annotation ${FORCE_SCALE_IN_ANNOTATION}=true to drop them`
        : `group ${op.group} is draining: ${unconsumed} messages left`;
    if (op.phase !== next || op.message !== message) {
      await this.setOperation(cluster, { ...op, phase: next, message });
      if (next === 'Blocked' && op.phase !== 'Blocked') {
        await recordEvent(this.kube, this.logger, cluster, 'Warning', 'ScaleInBlocked', message);
      }
    }
    return DRAIN_RECHECK_MS;
  }

  /** Messages of the group's user topics not yet consumed by every group consuming them. */
  private async unconsumed(cluster: RocketMQCluster, group: string, addr: string): Promise<number> {
    const names = [...groupNames(cluster), group];
    const topics = (await this.brokers.topicConfigs(addr)).filter((t) =>
      isUserTopic(cluster, t.topicName, names),
    );
    const offsets = await this.brokers.consumerOffsets(addr);
    let left = 0;
    for (const t of topics) {
      const consumers = [...offsets]
        .filter(([key]) => key.startsWith(`${t.topicName}@`))
        .map(([, q]) => q);
      for (let queueId = 0; queueId < t.readQueueNums; queueId++) {
        const mq = { topic: t.topicName, brokerName: group, queueId };
        const max = await this.queues.maxOffset(addr, mq);
        const from =
          consumers.length === 0
            ? await this.queues.minOffset(addr, mq)
            : Math.min(...consumers.map((q) => q.get(queueId) ?? 0));
        left += Math.max(0, max - from);
      }
    }
    return left;
  }

  /** Deletes the group's StatefulSet, Services, ConfigMap and PDB (and PVCs if the spec says so). */
  private async remove(cluster: RocketMQCluster, group: string): Promise<void> {
    const namespace = cluster.metadata.namespace;
    const name = groupObjectName(cluster, group);
    const object = (apiVersion: string, kind: string, objectName: string) => ({
      apiVersion,
      kind,
      metadata: { name: objectName, namespace },
    });
    for (const o of [
      object('apps/v1', 'StatefulSet', name),
      object('v1', 'Service', name),
      object('v1', 'Service', groupMasterServiceName(cluster, group)),
      object('v1', 'ConfigMap', groupConfigName(cluster, group)),
      object('policy/v1', 'PodDisruptionBudget', name),
    ]) {
      await this.kube.deleteIfPresent(o);
    }
    const claims = cluster.spec.broker.storage.deleteClaimsOnScaleIn
      ? await this.kube.deleteClaims(
          namespace,
          labelSelectorString(selectorLabels(cluster, 'broker', group)),
        )
      : [];
    const message = `group ${group} removed${claims.length > 0 ? `, PVCs deleted: ${claims.join(', ')}` : ', PVCs kept'}`;
    this.logger.info({ cluster: cluster.metadata.name, group, claims }, 'broker group removed');
    await recordEvent(this.kube, this.logger, cluster, 'Normal', 'GroupRemoved', message);
  }

  private addressOf(cluster: RocketMQCluster, group: string, pod: V1Pod): string {
    const ordinal = Number(/-(\d+)$/.exec(pod.metadata?.name ?? '')?.[1] ?? 0);
    return this.resolve(brokerPodAddress(cluster, group, ordinal));
  }

  private async setOperation(cluster: RocketMQCluster, operation: OperationStatus): Promise<void> {
    await this.kube.patchOperation(cluster, operation);
  }
}

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
