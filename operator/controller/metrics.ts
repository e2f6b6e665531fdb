import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The operator's own metrics, Strimzi-style: reconciles, failures, duration, managed clusters. */
export interface OperatorMetrics {
  reconciles: Counter<'result'>;
  failures: Counter<'reason'>;
  duration: Histogram<'result'>;
  managedClusters: Gauge;
}

export function createOperatorMetrics(
  registry: Registry,
  countClusters: () => number,
): OperatorMetrics {
  return {
    reconciles: new Counter({
      name: 'rmqts_operator_reconciles_total',
      help: 'Reconciles of RocketMQCluster resources, by result (success, failure, invalid, paused, deleted)',
      labelNames: ['result'],
      registers: [registry],
    }),
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
        this.set(countClusters());
      },
    }),
  };
}
