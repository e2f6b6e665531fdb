import {
  AppsV1Api,
  CoreV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import type { Logger } from '../../common/logger';
import { withDefaults } from '../api/cluster';
import { API_GROUP, API_VERSION, PLURAL, type RocketMQCluster } from '../api/types';
import { FailoverManager, type FailoverManagerOptions } from '../failover/failover-manager';
import { BrokerConfigClient } from '../../client/broker-config-client';
import { HaAdminClient } from '../../client/ha-admin';
import { ROLL_RECHECK_MS, RollingUpdate } from '../rolling/rolling-update';
import { GroupTopicSync } from '../scaling/group-topics';
import { LiveBrokerConfig } from '../scaling/live-broker-config';
import { DRAIN_RECHECK_MS, ScaleIn } from '../scaling/scale-in';
import { groupNames } from '../reconcile/desired';
import { brokerName, FIELD_MANAGER, GROUP_LABEL } from '../reconcile/names';
import { KubeGateway } from './kube-gateway';
import { conditionOf } from './conditions';
import type { ClusterReadiness, OperatorMetrics } from './metrics';
import { Reconciler } from './reconciler';
import { ReplicationProbe } from './replication';
import type { Observed } from './status';
import { WorkQueue } from './work-queue';

export interface ControllerOptions extends FailoverManagerOptions {
  /** Watch one namespace; all namespaces when undefined. */
  namespace?: string;
  concurrency: number;
}

type Watched<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

const OWNED_SELECTOR = `app.kubernetes.io/managed-by=${FIELD_MANAGER}`;
const INFORMER_RESTART_MS = 1000;
/** A cluster is reconciled at least this often, so the replication lag in status stays current. */
const STATUS_REFRESH_MS = 10_000;
/** How soon status is refreshed while the brokers' roles differ from the recorded ones. */
const UNSETTLED_REFRESH_MS = 1000;
/** The replication view status is written from is at most this old. */
const REPLICATION_MAX_AGE_MS = 5_000;
const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * Watches RocketMQClusters and the objects they own, and feeds a per-object work queue whose
 * worker is the Reconciler. An owned object's change enqueues its cluster (by the instance label),
 * so drift and readiness changes are reconciled without polling.
 */
export class ClusterController {
  private readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly failover: FailoverManager;
  private readonly liveConfig: LiveBrokerConfig;
  private readonly groupTopics: GroupTopicSync;
  private readonly brokerConfigs: BrokerConfigClient;
  private readonly scaleIn: ScaleIn;
  private readonly haAdmin: HaAdminClient;
  private readonly replication: ReplicationProbe;
  private readonly rollingUpdate: RollingUpdate;
  private readonly clusters: Watched<RocketMQCluster>;
  private readonly statefulSets: Watched<V1StatefulSet>;
  private readonly pods: Watched<V1Pod>;
  private readonly others: Watched<KubernetesObject>[];
  private started = false;
  private stopped = false;

  constructor(
    kc: KubeConfig,
    private readonly options: ControllerOptions,
    metrics: OperatorMetrics,
    private readonly logger: Logger,
  ) {
    const kube = new KubeGateway(kc);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const ns = options.namespace;
    const path = (prefix: string, plural: string) =>
      ns ? `${prefix}/namespaces/${ns}/${plural}` : `${prefix}/${plural}`;
    const selector = { labelSelector: OWNED_SELECTOR };

    this.clusters = makeInformer(kc, path(`/apis/${API_GROUP}/${API_VERSION}`, PLURAL), () =>
      kube.listClusters(ns),
    );
    // Owned objects are watched by label; their events enqueue the owning cluster.
    const owned = <T extends KubernetesObject>(
      prefix: string,
      plural: string,
      inNamespace: (namespace: string) => Promise<KubernetesListObject<T>>,
      everywhere: () => Promise<KubernetesListObject<T>>,
    ): Watched<T> =>
      makeInformer(
        kc,
        path(prefix, plural),
        () => (ns ? inNamespace(ns) : everywhere()),
        OWNED_SELECTOR,
      );
    this.statefulSets = owned(
      '/apis/apps/v1',
      'statefulsets',
      (namespace) => apps.listNamespacedStatefulSet({ namespace, ...selector }),
      () => apps.listStatefulSetForAllNamespaces(selector),
    );
    this.pods = owned(
      '/api/v1',
      'pods',
      (namespace) => core.listNamespacedPod({ namespace, ...selector }),
      () => core.listPodForAllNamespaces(selector),
    );
    const configMaps = owned(
      '/api/v1',
      'configmaps',
      (namespace) => core.listNamespacedConfigMap({ namespace, ...selector }),
      () => core.listConfigMapForAllNamespaces(selector),
    );
    const services = owned(
      '/api/v1',
      'services',
      (namespace) => core.listNamespacedService({ namespace, ...selector }),
      () => core.listServiceForAllNamespaces(selector),
    );
    this.others = [configMaps, services] as Watched<KubernetesObject>[];

    this.haAdmin = new HaAdminClient(logger, 1000);
    this.replication = new ReplicationProbe(this.haAdmin, options.resolveAddress);
    this.reconciler = new Reconciler(
      kube,
      (cluster) => this.observe(cluster),
      (cluster, pods) => this.replication.cluster(cluster, pods, REPLICATION_MAX_AGE_MS),
      metrics,
      logger,
    );
    this.failover = new FailoverManager(kube, metrics, logger, options);
    this.brokerConfigs = new BrokerConfigClient(logger, 3000);
    this.liveConfig = new LiveBrokerConfig(
      kube,
      this.brokerConfigs,
      logger,
      options.resolveAddress,
    );
    this.groupTopics = new GroupTopicSync(kube, this.brokerConfigs, logger, options.resolveAddress);
    this.scaleIn = new ScaleIn(kube, this.brokerConfigs, logger, options.resolveAddress);
    this.rollingUpdate = new RollingUpdate(
      kube,
      this.replication,
      this.failover,
      logger,
      options.resolveAddress,
    );
    this.queue = new WorkQueue(
      async (key) => {
        const [namespace, name] = key.split('/');
        const result = await this.reconciler.reconcile(namespace, name);
        await this.afterReconcile(namespace, name, result);
        logger.debug({ cluster: name, namespace, result }, 'reconciled');
      },
      (key, err, retryInMs) =>
        logger.warn({ cluster: key, err: (err as Error).message, retryInMs }, 'reconcile failed'),
      { concurrency: options.concurrency, baseDelayMs: 200, maxDelayMs: 60_000 },
    );

    for (const verb of ['add', 'update', 'delete'] as const) {
      this.clusters.on(verb, (c) => this.queue.add(keyOf(c)));
      for (const informer of [
        this.statefulSets,
        this.pods,
        ...this.others,
      ] as Watched<KubernetesObject>[]) {
        informer.on(verb, (o) => this.enqueueOwner(o));
      }
    }
  }

  /** RocketMQClusters in the watch cache: the clusters this operator manages. */
  get clusterCount(): number {
    return this.clusters.list().length;
  }

  /** The Ready condition of each cluster in the watch cache, for rmqts_operator_cluster_ready. */
  clusterReadiness(): ClusterReadiness[] {
    return this.clusters.list().map((c) => ({
      namespace: c.metadata?.namespace ?? '',
      name: c.metadata?.name ?? '',
      ready: conditionOf(c.status?.conditions, 'Ready')?.status === 'True',
      groups: Array.from({ length: c.spec?.broker?.groups ?? 0 }, (_, i) => brokerName(i)),
    }));
  }

  /** True once every watch has listed its objects. */
  get synced(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    const informers = [
      this.clusters,
      this.statefulSets,
      this.pods,
      ...this.others,
    ] as Watched<KubernetesObject>[];
    for (const informer of informers) {
      // A watch that fails is restarted; the informer re-lists and resumes.
      informer.on('error', (err: unknown) => {
        if (this.stopped) return;
        this.logger.warn(
          { err: (err as Error)?.message ?? String(err) },
          'watch failed; restarting',
        );
        setTimeout(() => {
          if (!this.stopped) informer.start().catch(() => undefined);
        }, INFORMER_RESTART_MS).unref();
      });
    }
    await Promise.all(informers.map((i) => i.start()));
    this.started = true;
    this.logger.info(
      { namespace: this.options.namespace ?? '(all)', clusters: this.clusters.list().length },
      'controller started',
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.stop();
    await Promise.all(
      [this.clusters, this.statefulSets, this.pods, ...this.others].map((i) => i.stop()),
    );
    await this.queue.idle();
    await this.failover.stop();
    this.brokerConfigs.close();
    this.scaleIn.close();
    this.haAdmin.close();
  }

  /**
   * What runs beside the objects of a reconciled cluster: its failover controllers (stopped with
   * the cluster, and while it is paused), the run-time settings of its running brokers, topics
   * for new broker groups, the scale-in of removed groups and rolling restarts.
   */
  private async afterReconcile(namespace: string, name: string, result: string): Promise<void> {
    const cached = this.clusters.get(name, namespace);
    const key = `${namespace}/${name}`;
    if (result === 'gone' || result === 'deleted' || cached === undefined) {
      await this.failover.forget(namespace, name);
      this.replication.forget(namespace, name);
    } else if (result === 'paused') {
      // Paused means nothing is changed, masters included.
      await this.failover.forget(namespace, name);
    } else if (result === 'success' && !this.stopped) {
      const cluster = withDefaults(cached);
      await this.failover.sync(cluster);
      const { brokerPods, statefulSets } = this.observe(cluster);
      await this.liveConfig.sync(cluster, brokerPods);
      await this.groupTopics.sync(cluster, brokerPods);
      const wanted = new Set(groupNames(cluster));
      const leftover = [...statefulSets.values()]
        .map((s) => s.metadata?.labels?.[GROUP_LABEL])
        .filter((g): g is string => g !== undefined && !wanted.has(g));
      await this.operationStep('scale-in', key, DRAIN_RECHECK_MS, () =>
        this.scaleIn.step(cluster, leftover, brokerPods),
      );
      await this.operationStep('rolling update', key, ROLL_RECHECK_MS, () =>
        this.rollingUpdate.step(cluster, brokerPods),
      );
      // A replication view caught mid-change (a master not yet told) is refreshed soon.
      this.queue.addAfter(
        key,
        this.replication.settled(namespace, name) ? STATUS_REFRESH_MS : UNSETTLED_REFRESH_MS,
      );
    }
  }

  /** Runs one step of a long operation and requeues the cluster when the step asks to. */
  private async operationStep(
    what: string,
    key: string,
    retryMs: number,
    step: () => Promise<number | undefined>,
  ): Promise<void> {
    try {
      const again = await step();
      if (again !== undefined) this.queue.addAfter(key, again);
    } catch (err) {
      this.logger.warn(
        { cluster: key, err: (err as Error).message },
        `${what} step failed; retrying`,
      );
      this.queue.addAfter(key, retryMs);
    }
  }

  /** Resolves when no reconcile is queued or running (for tests and shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private enqueueOwner(o: KubernetesObject): void {
    const instance = o.metadata?.labels?.['app.kubernetes.io/instance'];
    if (instance && o.metadata?.namespace) this.queue.add(`${o.metadata.namespace}/${instance}`);
  }

  private observe(cluster: RocketMQCluster): Observed {
    const mine = (o: KubernetesObject) =>
      o.metadata?.labels?.['app.kubernetes.io/instance'] === cluster.metadata.name;
    const ns = cluster.metadata.namespace;
    return {
      statefulSets: new Map(
        this.statefulSets
          .list(ns)
          .filter(mine)
          .map((s) => [s.metadata?.name ?? '', s]),
      ),
      brokerPods: this.pods
        .list(ns)
        .filter((p) => mine(p) && p.metadata?.labels?.['app.kubernetes.io/component'] === 'broker'),
    };
  }
}
