import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The broker's own Prometheus metrics (transport metrics come from common/metrics.ts). */
export interface BrokerMetrics {
  messagesPut: Counter<'topic'>;
  bytesPut: Counter<'topic'>;
  messagesGot: Counter<'topic' | 'group'>;
  bytesGot: Counter<'topic' | 'group'>;
  requestSeconds: Histogram<'code'>;
  heldPulls: Gauge;
  connections: Gauge;
  consumerLag: Gauge<'group' | 'topic'>;
}

/** What the scrape-time gauges read from the running broker. */
export interface BrokerGaugeSources {
  heldPulls(): number;
  connections(): number;
  /** Messages not yet consumed per group and topic (max offset − committed offset, summed). */
  consumerLag(): Iterable<{ group: string; topic: string; lag: number }>;
}

export function createBrokerMetrics(
  registry: Registry,
  sources: BrokerGaugeSources,
): BrokerMetrics {
  const registers = [registry];
  return {
    messagesPut: new Counter({
      name: 'rmqts_broker_messages_put_total',
      help: 'Messages stored, by topic',
      labelNames: ['topic'],
      registers,
    }),
    bytesPut: new Counter({
      name: 'rmqts_broker_bytes_put_total',
      help: 'Message body bytes stored, by topic',
      labelNames: ['topic'],
      registers,
    }),
    messagesGot: new Counter({
      name: 'rmqts_broker_messages_pulled_total',
      help: 'Messages returned by pulls, by topic and consumer group',
      labelNames: ['topic', 'group'],
      registers,
    }),
    bytesGot: new Counter({
      name: 'rmqts_broker_bytes_pulled_total',
      help: 'Record bytes returned by pulls, by topic and consumer group',
      labelNames: ['topic', 'group'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'rmqts_broker_request_duration_seconds',
      help: 'Time from a request being dispatched to its response, by request code (held pulls excluded)',
      labelNames: ['code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    heldPulls: new Gauge({
      name: 'rmqts_broker_held_pulls',
      help: 'Pull requests parked by long polling',
      registers,
      collect() {
        this.set(sources.heldPulls());
      },
    }),
    connections: new Gauge({
      name: 'rmqts_broker_connections',
      help: 'Open client connections',
      registers,
      collect() {
        this.set(sources.connections());
      },
    }),
    consumerLag: new Gauge({
      name: 'rmqts_broker_consumer_lag_messages',
      help: 'Messages stored but not yet consumed, by consumer group and topic',
      labelNames: ['group', 'topic'],
      registers,
      collect() {
        this.reset();
        for (const { group, topic, lag } of sources.consumerLag()) this.set({ group, topic }, lag);
      },
    }),
  };
}
