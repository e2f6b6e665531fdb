import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReconcileResult } from './reconciler';

/**
 * Every `result` a reconcile can end with, exported at 0 from the start: a series that does not
 * exist yet makes `rate(…{result="failure"})` return nothing instead of 0.
 */
const RECONCILE_RESULTS: readonly (ReconcileResult | 'failure')[] = [
  'success',
  'failure',
  'invalid',
  'paused',
  'deleted',
  'gone',
];

/** The operator's own metrics, Strimzi-style: reconciles, failures, duration, managed clusters. */
export interface OperatorMetrics {
  reconciles: Counter<'result'>;
  failures: Counter<'reason'>;
  duration: Histogram<'result'>;
  managedClusters: Gauge;
  /** Incremented when failover makes another broker its group's master. */
  failovers: Counter<'cluster_namespace' | 'cluster' | 'group'>;
}

export interface ClusterReadiness {
  namespace: string;
  name: string;
  ready: boolean;
  /** Its broker groups' names (brokerName), so each failover counter starts at 0. */
  groups: string[];
}

/** What the scrape-time gauges read from the running operator. */
export interface OperatorGaugeSources {
  clusterCount(): number;
  isLeader(): boolean;
  /** The Ready condition of each managed cluster (none while this replica is standby). */
  clusterReadiness(): Iterable<ClusterReadiness>;
}

export function createOperatorMetrics(
  registry: Registry,
  sources: OperatorGaugeSources,
): OperatorMetrics {
  new Gauge({
    name: 'rmqts_operator_is_leader',
    help: '1 while this replica holds the leader Lease, else 0',
    registers: [registry],
    collect() {
      this.set(sources.isLeader() ? 1 : 0);
    },
  });
  // `cluster_namespace`, not `namespace`: Prometheus's Kubernetes discovery sets `namespace`.
  new Gauge({
    name: 'rmqts_operator_cluster_ready',
    help: "1 while a RocketMQCluster's Ready condition is True, else 0",
    labelNames: ['cluster_namespace', 'cluster'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { namespace, name, ready } of sources.clusterReadiness()) {
        this.set({ cluster_namespace: namespace, cluster: name }, ready ? 1 : 0);
      }
    },
  });
  const reconciles = new Counter({
    name: 'rmqts_operator_reconciles_total',
    help: 'Reconciles of RocketMQCluster resources, by result (success, failure, invalid, paused, deleted, gone)',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of RECONCILE_RESULTS) reconciles.inc({ result }, 0);
  return {
    reconciles,
    failures: new Counter({
      name: 'rmqts_operator_reconcile_failures_total',
      help: 'Reconciles that failed and were retried with backoff, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'rmqts_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    managedClusters: new Gauge({
      name: 'rmqts_operator_managed_clusters',
      help: 'RocketMQCluster resources the operator currently manages',
      registers: [registry],
      collect() {
        this.set(sources.clusterCount());
      },
    }),
    failovers: new Counter({
      name: 'rmqts_operator_failovers_total',
      help: 'Master changes made by failover, by cluster and broker group',
      labelNames: ['cluster_namespace', 'cluster', 'group'],
      registers: [registry],
      collect() {
        // A counter that has never moved has no series; `increase()` over it needs a 0 first.
        for (const { namespace, name, groups } of sources.clusterReadiness()) {
          for (const group of groups) {
            this.inc({ cluster_namespace: namespace, cluster: name, group }, 0);
          }
        }
      },
    }),
  };
}
