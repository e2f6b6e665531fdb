import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { OUR_VERSION_NAME } from '../common/protocol/codes';
import type { BrokerConfig } from './broker-config';
import type { BrokerContext } from './broker-context';
import { consumeProgress } from './stats/consume-progress';
import { registerExporterMetrics } from './stats/exporter-metrics';
import { storePaths } from './store/store-config';

/** The broker's own Prometheus metrics (transport metrics come from common/metrics.ts). */
export interface BrokerMetrics {
  messagesPut: Counter<'topic'>;
  bytesPut: Counter<'topic'>;
  /** Counts a stored put in both counters above. */
  countPut(topic: string, messages: number, bytes: number): void;
  messagesGot: Counter<'topic' | 'group'>;
  bytesGot: Counter<'topic' | 'group'>;
  requestSeconds: Histogram<'code'>;
  heldPulls: Gauge;
  connections: Gauge;
}

/** What the scrape-time gauges read from the running broker. */
export interface BrokerGaugeSources {
  heldPulls(): number;
  connections(): number;
}

export function createBrokerMetrics(
  registry: Registry,
  sources: BrokerGaugeSources,
): BrokerMetrics {
  const registers = [registry];
  const messagesPut = new Counter({
    name: 'rmqts_broker_messages_put_total',
    help: 'Messages stored, by topic',
    labelNames: ['topic'],
    registers,
  });
  const bytesPut = new Counter({
    name: 'rmqts_broker_bytes_put_total',
    help: 'Message body bytes stored, by topic',
    labelNames: ['topic'],
    registers,
  });
  // The per-topic children, bound once: `inc({ topic }, n)` hashes the labels on every call, a
  // measurable share of a small send's cost.
  const putChildren = new Map<
    string,
    { messages: { inc(n: number): void }; bytes: { inc(n: number): void } }
  >();
  return {
    messagesPut,
    bytesPut,
    countPut(topic, messages, bytes) {
      let children = putChildren.get(topic);
      if (children === undefined) {
        children = { messages: messagesPut.labels({ topic }), bytes: bytesPut.labels({ topic }) };
        putChildren.set(topic, children);
      }
      children.messages.inc(messages);
      children.bytes.inc(bytes);
    },
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
  };
}

/**
 * Labels every broker series carries, so dashboards can tell brokers apart without relying on
 * scrape-target labels; `process` is repeated because setDefaultLabels replaces the defaults.
 */
function brokerDefaultLabels(config: BrokerConfig): Record<string, string> {
  return {
    process: 'broker',
    cluster: config.brokerClusterName,
    broker: config.brokerName,
    brokerId: String(config.brokerId),
  };
}

/**
 * The metrics computed when Prometheus scrapes (identity, role, flush latency, store size) and
 * the rocketmq-exporter-compatible ones; call once the context exists.
 */
export function registerScrapeTimeMetrics(registry: Registry, ctx: BrokerContext): void {
  const registers = [registry];
  const { config, store } = ctx;
  let labels = brokerDefaultLabels(config);
  registry.setDefaultLabels(labels);
  new Gauge({
    name: 'rmqts_broker_info',
    help: 'Always 1: identifies a broker (cluster, broker group, brokerId, protocol version)',
    labelNames: ['version'],
    registers,
    collect() {
      // brokerId changes when failover promotes a slave: keep the default labels current.
      const now = brokerDefaultLabels(config);
      if (now.brokerId !== labels.brokerId) registry.setDefaultLabels((labels = now));
      this.set({ version: OUR_VERSION_NAME }, 1);
    },
  });
  new Gauge({
    name: 'rmqts_broker_is_master',
    help: '1 while this broker acts as its group master (accepts writes), else 0',
    registers,
    collect() {
      this.set(store.brokerRole === 'SLAVE' ? 0 : 1);
    },
  });
  const flush = new Histogram({
    name: 'rmqts_broker_flush_duration_seconds',
    help: 'Time one CommitLog flush (fdatasync of the written bytes) took',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  store.onFlushed((seconds) => flush.observe(seconds));
  const commitLogDir = storePaths(config).commitLog;
  new Gauge({
    name: 'rmqts_broker_store_size_bytes',
    help: 'Bytes of CommitLog files on disk',
    registers,
    async collect() {
      this.set(await directoryBytes(commitLogDir));
    },
  });
  new Gauge({
    name: 'rmqts_broker_consumer_lag_messages',
    help: 'Messages stored but not yet consumed, by consumer group and topic (rocketmq_group_diff for every model)',
    labelNames: ['group', 'topic'],
    registers,
    collect() {
      this.reset();
      for (const { group, topic, diff } of consumeProgress(ctx)) this.set({ group, topic }, diff);
    },
  });
  new Gauge({
    name: 'rmqts_broker_consumer_offset',
    help: 'Committed consume offset, by consumer group, topic and queue',
    labelNames: ['group', 'topic', 'queueId'],
    registers,
    collect() {
      this.reset();
      for (const { group, topic, queues } of consumeProgress(ctx)) {
        for (const q of queues) this.set({ group, topic, queueId: q.queueId }, q.consumerOffset);
      }
    },
  });
  new Gauge({
    name: 'rmqts_broker_consumer_queue_lag_messages',
    help: 'Messages stored but not yet consumed, by consumer group, topic and queue',
    labelNames: ['group', 'topic', 'queueId'],
    registers,
    collect() {
      this.reset();
      for (const { group, topic, queues } of consumeProgress(ctx)) {
        for (const q of queues) {
          this.set(
            { group, topic, queueId: q.queueId },
            Math.max(0, q.brokerOffset - q.consumerOffset),
          );
        }
      }
    },
  });
  registerExporterMetrics(registry, ctx);
}

/** Total size of the files directly in `dir` (0 while it does not exist). */
async function directoryBytes(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let total = 0;
  for (const name of names) {
    // A file deleted by retention between readdir and stat counts as gone.
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isFile()) total += info.size;
  }
  return total;
}
