import { isDeepStrictEqual } from 'node:util';
import { ApiException, type V1Pod } from '@kubernetes/client-node';
import { hasFinalizer, isBeingDeleted, isPaused, withDefaults } from '../api/cluster';
import { FINALIZER, type RocketMQCluster, type RocketMQClusterStatus } from '../api/types';
import { validateSpec } from '../api/validate';
import { masterOrdinal } from '../reconcile/broker-config';
import { desiredObjects, failoverStateOf, groupNames } from '../reconcile/desired';
import {
  GROUP_LABEL,
  labelSelectorString,
  ROLE_LABEL,
  selectorLabels,
  trailingIndex,
} from '../reconcile/names';
import type { Logger } from '../../common/logger';
import { conditionOf, setConditions, type ConditionUpdate } from './conditions';
import { recordEvent } from './events';
import type { KubeGateway } from './kube-gateway';
import type { OperatorMetrics } from './metrics';
import type { ReplicationView } from './replication';
import { observedStatus, type Observed } from './status';

export type ReconcileResult = 'success' | 'invalid' | 'paused' | 'deleted' | 'gone';

/** The API server's own message from a Status body, else the error's message. */
function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = typeof err.body === 'string' ? safeParse(err.body) : err.body;
    const message =
      body && typeof body === 'object' && 'message' in body ? String(body.message) : undefined;
    return message ?? `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * One reconcile of one RocketMQCluster: finalizer, pause, validation, server-side apply of the
 * desired objects, master pod labels, then status with conditions. It never waits for anything:
 * changes of the owned objects come back as watch events and trigger the next reconcile.
 */
export class Reconciler {
  constructor(
    private readonly kube: KubeGateway,
    private readonly observe: (cluster: RocketMQCluster) => Observed,
    /** What the broker pods say about replication, for the replicas' role and lag in status. */
    private readonly replication: (
      cluster: RocketMQCluster,
      brokerPods: readonly V1Pod[],
    ) => Promise<ReplicationView>,
    private readonly metrics: OperatorMetrics,
    private readonly logger: Logger,
  ) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const end = this.metrics.duration.startTimer();
    try {
      const result = await this.reconcileOnce(namespace, name);
      this.metrics.reconciles.inc({ result });
      end({ result });
      return result;
    } catch (err) {
      const reason = err instanceof Error && 'code' in err ? `http_${String(err.code)}` : 'error';
      this.metrics.reconciles.inc({ result: 'failure' });
      this.metrics.failures.inc({ reason });
      end({ result: 'failure' });
      throw err;
    }
  }

  private async reconcileOnce(namespace: string, name: string): Promise<ReconcileResult> {
    const raw = await this.kube.getCluster(namespace, name);
    if (!raw) return 'gone';
    let cluster = withDefaults(raw);
    if (isBeingDeleted(cluster)) {
      await this.finalize(cluster);
      return 'deleted';
    }
    if (!hasFinalizer(cluster)) {
      cluster = withDefaults(
        await this.kube.setFinalizers(cluster, [...(cluster.metadata.finalizers ?? []), FINALIZER]),
      );
    }
    if (isPaused(cluster)) return this.pause(cluster);
    const problems = validateSpec(cluster);
    if (problems.length > 0) return this.refuse(cluster, problems);
    try {
      await this.applyDesired(cluster);
    } catch (err) {
      await this.reportApplyFailure(cluster, err);
      throw err;
    }
    await this.writeObservedStatus(cluster);
    return 'success';
  }

  private async applyDesired(cluster: RocketMQCluster): Promise<void> {
    const failover = failoverStateOf(cluster);
    const desired = desiredObjects(cluster, failover);
    await Promise.all(desired.map((object) => this.kube.apply(object)));
    if (!(cluster.spec.metrics.enabled && cluster.spec.metrics.serviceMonitor.enabled)) {
      await this.kube.deleteIfPresent({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: cluster.metadata.name, namespace: cluster.metadata.namespace },
      });
    }
    // The master Service selects the pod labelled master; keep the labels on the recorded master.
    // Pods of a group being scaled in keep theirs (no master is recorded for it any more).
    const groups = groupNames(cluster);
    for (const pod of this.observe(cluster).brokerPods) {
      const podName = pod.metadata?.name ?? '';
      const group = pod.metadata?.labels?.[GROUP_LABEL];
      if (!group || !groups.includes(group)) continue;
      const role = trailingIndex(podName) === masterOrdinal(failover, group) ? 'master' : 'slave';
      if (pod.metadata?.labels?.[ROLE_LABEL] !== role) {
        await this.kube.setPodLabel(cluster.metadata.namespace, podName, ROLE_LABEL, role);
      }
    }
    if (cluster.status?.observedGeneration !== cluster.metadata.generation) {
      await this.event(
        cluster,
        'Normal',
        'Applied',
        `applied generation ${cluster.metadata.generation}: ${desired.length} objects`,
      );
    }
  }

  private async writeObservedStatus(cluster: RocketMQCluster): Promise<void> {
    const observed = this.observe(cluster);
    const replication = await this.replication(cluster, observed.brokerPods);
    const { status, conditions } = observedStatus(cluster, failoverStateOf(cluster), {
      ...observed,
      replication,
    });
    const wanted = new Set(groupNames(cluster));
    const leftover = [...observed.statefulSets.values()]
      .map((s) => s.metadata?.labels?.[GROUP_LABEL])
      .filter((g): g is string => g !== undefined && !wanted.has(g));
    const updates: ConditionUpdate[] = [
      ...conditions,
      {
        type: 'Degraded',
        status: 'False',
        reason: 'AsExpected',
        message: 'the spec is valid and was applied',
      },
      { type: 'Paused', status: 'False', reason: 'NotPaused', message: 'reconciling' },
    ];
    const operation = cluster.status?.operation;
    if (operation?.type === 'ScaleIn' && operation.phase === 'Blocked') {
      const message = operation.message ?? `scale-in of ${operation.group} is blocked`;
      updates.push(
        { type: 'Progressing', status: 'True', reason: 'ScaleInBlocked', message },
        { type: 'Degraded', status: 'True', reason: 'ScaleInBlocked', message },
      );
    } else if (operation?.type === 'RollingUpdate') {
      updates.push({
        type: 'Progressing',
        status: 'True',
        reason: 'RollingUpdate',
        message: `rolling group ${operation.group}${operation.message ? `: ${operation.message}` : ''}`,
      });
    } else if (leftover.length > 0) {
      // Removing a group needs a drain first (its queues consumed): see scaling/scale-in.ts.
      updates.push({
        type: 'Progressing',
        status: 'True',
        reason: 'ScaleInPending',
        message: `broker groups ${leftover.sort().join(', ')} are no longer in the spec; they are removed once drained`,
      });
    }
    const wasReady = conditionOf(cluster.status?.conditions, 'Ready')?.status === 'True';
    const written = await this.writeStatus(cluster, { ...cluster.status, ...status }, updates);
    const nowReady = conditionOf(written.conditions, 'Ready')?.status === 'True';
    if (nowReady !== wasReady) {
      await this.event(
        cluster,
        nowReady ? 'Normal' : 'Warning',
        nowReady ? 'Ready' : 'NotReady',
        conditionOf(written.conditions, 'Ready')?.message ?? '',
      );
    }
  }

  private async pause(cluster: RocketMQCluster): Promise<ReconcileResult> {
    const wasPaused = conditionOf(cluster.status?.conditions, 'Paused')?.status === 'True';
    // observedGeneration stays at the last generation actually reconciled.
    await this.writeStatus(
      cluster,
      { ...cluster.status },
      [
        {
          type: 'Paused',
          status: 'True',
          reason: 'ReconciliationPaused',
          message: 'the pause annotation is set; nothing is changed',
        },
      ],
      cluster.status?.observedGeneration ?? 0,
    );
    if (!wasPaused)
      await this.event(cluster, 'Normal', 'Paused', 'reconciliation paused by annotation');
    return 'paused';
  }

  private async refuse(cluster: RocketMQCluster, problems: string[]): Promise<ReconcileResult> {
    const message = problems.join('; ');
    const previous = conditionOf(cluster.status?.conditions, 'Degraded');
    await this.writeStatus(cluster, { ...cluster.status }, [
      { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message },
      {
        type: 'Progressing',
        status: 'False',
        reason: 'InvalidSpec',
        message: 'fix the spec to continue',
      },
      { type: 'Paused', status: 'False', reason: 'NotPaused', message: 'reconciling' },
    ]);
    if (previous?.message !== message) await this.event(cluster, 'Warning', 'InvalidSpec', message);
    this.logger.warn(
      { cluster: cluster.metadata.name, namespace: cluster.metadata.namespace, problems },
      'spec refused',
    );
    return 'invalid';
  }

  /**
   * An object the API server refuses (e.g. a StatefulSet field it forbids changing, such as the
   * storage size) is reported in Degraded and an Event; the reconcile is then retried with backoff.
   */
  private async reportApplyFailure(cluster: RocketMQCluster, err: unknown): Promise<void> {
    const message = `applying the desired objects failed: ${apiErrorMessage(err)}`;
    const previous = conditionOf(cluster.status?.conditions, 'Degraded');
    try {
      await this.writeStatus(cluster, { ...cluster.status }, [
        { type: 'Degraded', status: 'True', reason: 'ApplyFailed', message },
      ]);
    } catch (statusErr) {
      this.logger.warn(
        { err: apiErrorMessage(statusErr) },
        'could not record the apply failure in status',
      );
    }
    if (previous?.message !== message) await this.event(cluster, 'Warning', 'ApplyFailed', message);
  }

  /** Writes status only when something changed, so a status write does not feed a reconcile loop. */
  private async writeStatus(
    cluster: RocketMQCluster,
    base: RocketMQClusterStatus,
    updates: ConditionUpdate[],
    observedGeneration = cluster.metadata.generation ?? 0,
  ): Promise<RocketMQClusterStatus> {
    const next: RocketMQClusterStatus = {
      ...base,
      observedGeneration,
      conditions: setConditions(
        cluster.status?.conditions,
        updates,
        cluster.metadata.generation ?? 0,
        nowIso(),
      ),
    };
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(next)), cluster.status ?? {})) return next;
    return (await this.kube.patchStatus(cluster, next)).status ?? next;
  }

  /** The finalizer: delete broker PVCs only when the spec says so, then let the cluster go. */
  private async finalize(cluster: RocketMQCluster): Promise<void> {
    if (!hasFinalizer(cluster)) return;
    const { namespace } = cluster.metadata;
    if (cluster.spec.broker.storage.deleteClaimsOnClusterDeletion) {
      const deleted = await this.kube.deleteClaims(
        namespace,
        labelSelectorString(selectorLabels(cluster, 'broker')),
      );
      await this.event(
        cluster,
        'Normal',
        'ClaimsDeleted',
        `deleted ${deleted.length} broker PVCs: ${deleted.join(', ')}`,
      );
    } else {
      await this.event(
        cluster,
        'Normal',
        'ClaimsRetained',
        'broker PVCs are kept (storage.deleteClaimsOnClusterDeletion is false)',
      );
    }
    await this.kube.setFinalizers(
      cluster,
      (cluster.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
    );
    this.logger.info(
      { cluster: cluster.metadata.name, namespace },
      'cluster deleted, finalizer removed',
    );
  }

  private async event(
    cluster: RocketMQCluster,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    await recordEvent(this.kube, this.logger, cluster, type, reason, message);
  }
}
