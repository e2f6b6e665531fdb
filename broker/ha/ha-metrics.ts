import { Gauge, type Registry } from 'prom-client';

/** Replication lag per connected slave, as the master sees it (issue 6 "Metrics"). */
export interface HaMetrics {
  setLag(slave: string, bytes: number, seconds: number): void;
  forget(slave: string): void;
}

export function createHaMetrics(registry: Registry): HaMetrics {
  const registers = [registry];
  const bytes = new Gauge({
    name: 'rmqts_broker_replication_lag_bytes',
    help: 'CommitLog bytes the master holds that a slave has not acknowledged, by slave',
    labelNames: ['slave'],
    registers,
  });
  const seconds = new Gauge({
    name: 'rmqts_broker_replication_lag_seconds',
    help: 'Seconds since a slave last had everything the master held (0 when caught up), by slave',
    labelNames: ['slave'],
    registers,
  });
  // rocketmq-exporter's name for the same lag (master commitLogMaxOffset − the slave's), so
  // dashboards made for Java clusters show it; the master knows a slave by its HA connection.
  const exporterDiff = new Gauge({
    name: 'rocketmq_broker_commitlog_diff',
    help: 'CommitLog bytes a slave is behind its master, by slave address (brokerIP)',
    labelNames: ['brokerIP'],
    registers,
  });
  return {
    setLag(slave, b, s) {
      bytes.set({ slave }, b);
      seconds.set({ slave }, s);
      exporterDiff.set({ brokerIP: slave }, b);
    },
    forget(slave) {
      bytes.remove({ slave });
      seconds.remove({ slave });
      exporterDiff.remove({ brokerIP: slave });
    },
  };
}
