import { HaAdminClient } from '../../client/ha-admin';
import type { Logger } from '../../common/logger';
import { FailoverController, type FailoverEvent } from '../../failover/controller';
import type { RocketMQCluster } from '../api/types';
import { recordEvent } from '../controller/events';
import type { KubeGateway } from '../controller/kube-gateway';
import type { OperatorMetrics } from '../controller/metrics';
import { masterRoleOf, slaveIdOf } from '../reconcile/broker-config';
import { groupNames } from '../reconcile/desired';
import { brokerPodAddress, groupObjectName, podName } from '../reconcile/names';
import { KubeStateStore } from './kube-state-store';

/** Turns a broker pod's DNS address into the address the operator dials (identity in a cluster). */
export type AddressResolver = (addr: string) => string;

export interface FailoverManagerOptions {
  /** Probe period of every group's controller. */
  probeIntervalMs?: number;
  resolveAddress?: AddressResolver;
}

interface Running {
  controller: FailoverController;
  /** What the controller was built from; a change restarts it. */
  shape: string;
}

/**
 * Runs one {@link FailoverController} per broker group of every cluster with
 * `spec.failover.enabled`, with the decision recorded in the cluster's status
 * ({@link KubeStateStore}). Every decision becomes a Kubernetes Event; a failover also counts in
 * rmqts_operator_failovers_total. Pod labels and the master Service follow from the next
 * reconcile, which the status write triggers.
 */
export class FailoverManager {
  private readonly admin: HaAdminClient;
  private readonly groups = new Map<string, Running>();
  private readonly resolve: AddressResolver;

  constructor(
    private readonly kube: KubeGateway,
    private readonly metrics: OperatorMetrics,
    private readonly logger: Logger,
    private readonly options: FailoverManagerOptions = {},
  ) {
    this.admin = new HaAdminClient(logger, 1000);
    this.resolve = options.resolveAddress ?? ((addr) => addr);
  }

  /** Makes the running controllers match the cluster's spec (called after every reconcile). */
  async sync(cluster: RocketMQCluster): Promise<void> {
    const prefix = clusterKey(cluster.metadata.namespace, cluster.metadata.name);
    const wanted = new Map<string, string>();
    if (cluster.spec.failover.enabled) {
      for (const group of groupNames(cluster)) {
        wanted.set(
          `${prefix}${group}`,
          JSON.stringify([
            this.membersOf(cluster, group),
            cluster.spec.failover.detectionSeconds,
            masterRoleOf(cluster),
          ]),
        );
      }
    }
    for (const [key, running] of this.groups) {
      if (key.startsWith(prefix) && wanted.get(key) !== running.shape) await this.stopGroup(key);
    }
    for (const [key, shape] of wanted) {
      if (!this.groups.has(key))
        await this.startGroup(cluster, key.slice(prefix.length), key, shape);
    }
  }

  /**
   * Stops the controllers of a cluster that is gone, being deleted or paused (the pause
   * annotation stops failover too; the next {@link sync} after the pause starts them again,
   * each reading the recorded master back from status).
   */
  async forget(namespace: string, name: string): Promise<void> {
    const prefix = clusterKey(namespace, name);
    const stopped: string[] = [];
    for (const key of [...this.groups.keys()]) {
      if (!key.startsWith(prefix)) continue;
      await this.stopGroup(key);
      stopped.push(key.slice(prefix.length));
    }
    if (stopped.length > 0) {
      this.logger.info(
        { cluster: name, namespace, groups: stopped },
        'failover controllers stopped',
      );
    }
  }

  /** The groups of a cluster whose failover controller runs now. */
  runningGroups(namespace: string, name: string): string[] {
    const prefix = clusterKey(namespace, name);
    return [...this.groups.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length));
  }

  /**
   * Planned handover of a group's mastership to `targetAddr` (or the best in-sync slave): see
   * {@link FailoverController.switchover}. Rejects when the group has no running controller.
   */
  switchover(
    cluster: RocketMQCluster,
    group: string,
    targetAddr?: string,
  ): Promise<{ epoch: number; masterAddr: string }> {
    const key = `${clusterKey(cluster.metadata.namespace, cluster.metadata.name)}${group}`;
    const running = this.groups.get(key);
    if (running === undefined) {
      return Promise.reject(new Error(`group ${group} has no running failover controller`));
    }
    return running.controller.switchover(targetAddr);
  }

  async stop(): Promise<void> {
    for (const key of [...this.groups.keys()]) await this.stopGroup(key);
    this.admin.close();
  }

  private async startGroup(cluster: RocketMQCluster, group: string, key: string, shape: string) {
    const { namespace, name } = cluster.metadata;
    const addressOf = (c: RocketMQCluster, g: string, ordinal: number) =>
      this.resolve(brokerPodAddress(c, g, ordinal));
    const controller = new FailoverController(
      {
        brokerName: group,
        members: this.membersOf(cluster, group),
        masterRole: masterRoleOf(cluster),
      },
      {
        admin: this.admin,
        stateStore: new KubeStateStore(this.kube, namespace, name, addressOf),
        logger: this.logger.child({ cluster: name, namespace, group }),
        detectionTimeMs: cluster.spec.failover.detectionSeconds * 1000,
        probeIntervalMs: this.options.probeIntervalMs,
      },
    );
    const podOf = (addr: string) => {
      for (let ordinal = 0; ordinal < cluster.spec.broker.replicasPerGroup; ordinal++) {
        if (addressOf(cluster, group, ordinal) === addr) {
          return podName(groupObjectName(cluster, group), ordinal);
        }
      }
      return addr;
    };
    controller.onEvent((e) => void this.record(cluster, group, e, podOf));
    await controller.start();
    this.groups.set(key, { controller, shape });
    this.logger.info({ cluster: name, namespace, group }, 'failover controller started');
  }

  /** The group's brokers as the controller dials them; resolved anew on every sync. */
  private membersOf(cluster: RocketMQCluster, group: string) {
    return Array.from({ length: cluster.spec.broker.replicasPerGroup }, (_, ordinal) => ({
      addr: this.resolve(brokerPodAddress(cluster, group, ordinal)),
      slaveId: slaveIdOf(ordinal),
    }));
  }

  private async stopGroup(key: string): Promise<void> {
    const running = this.groups.get(key);
    this.groups.delete(key);
    await running?.controller.stop();
  }

  private async record(
    cluster: RocketMQCluster,
    group: string,
    e: FailoverEvent,
    podOf: (addr: string) => string,
  ): Promise<void> {
    const { namespace, name } = cluster.metadata;
    let reason: string;
    let message: string;
    if (e.type === 'failover') {
      this.metrics.failovers.inc({ cluster_namespace: namespace, cluster: name, group });
      reason = 'Failover';
      message = `group ${group}: ${podOf(e.masterAddr)} is master in epoch ${e.epoch}, replacing ${podOf(e.oldMasterAddr)}`;
    } else if (e.type === 'elected') {
      reason = 'MasterElected';
      message = `group ${group}: ${podOf(e.masterAddr)} is master in epoch ${e.epoch}`;
    } else {
      reason = 'SlaveRepointed';
      message = `group ${group}: ${podOf(e.addr)} follows ${podOf(e.masterAddr)} in epoch ${e.epoch}`;
    }
    await recordEvent(
      this.kube,
      this.logger,
      cluster,
      e.type === 'failover' ? 'Warning' : 'Normal',
      reason,
      message,
    );
  }
}

const clusterKey = (namespace: string, name: string) => `${namespace}/${name}/`;
