import { hostname } from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import { OUR_VERSION, OUR_VERSION_NAME } from '../../common/protocol/codes';
import type { BrokerContext } from '../broker-context';
import { DLQ_GROUP_TOPIC_PREFIX, isRetryTopic } from '../metadata/system-topics';
import { consumeLatencyMs, consumeProgress } from './consume-progress';
import { CounterRates } from './counter-rates';

/** rocketmq-exporter reports group figures only for clustering consumers, as MessageModel ordinal 1. */
const CLUSTERING = 'CLUSTERING';
const CLUSTERING_ORDINAL = '1';

/** The broker-wide TPS window the exporter reads (BrokerStatsManager's statsMinute). */
const MINUTE_SECONDS = 60;

/** rocketmq_brokeruntime_* gauges: exporter name suffix → GET_BROKER_RUNTIME_INFO key (§14.1). */
const RUNTIME_GAUGES: [suffix: string, key: string][] = [
  ['commitlog_disk_ratio', 'commitLogDiskRatio'],
  ['consumequeue_disk_ratio', 'consumeQueueDiskRatio'],
  ['remain_howmanydata_toflush', 'remainHowManyDataToFlush'],
  ['commitlog_maxoffset', 'commitLogMaxOffset'],
  ['commitlog_minoffset', 'commitLogMinOffset'],
  ['dispatch_behind_bytes', 'dispatchBehindBytes'],
  ['pagecache_lock_time_mills', 'pageCacheLockTimeMills'],
  ['put_message_size_total', 'putMessageSizeTotal'],
  ['msg_put_total_today_now', 'msgPutTotalTodayNow'],
  ['msg_gettotal_today_now', 'msgGetTotalTodayNow'],
];

const RUNTIME_LABELS = ['brokerIP', 'brokerHost', 'des', 'boottime', 'broker_version'] as const;

function isRetryOrDlq(topic: string): boolean {
  return isRetryTopic(topic) || topic.startsWith(DLQ_GROUP_TOPIC_PREFIX);
}

/**
 * The series apache/rocketmq-exporter publishes for a broker (broker-internals.md §14.2), with
 * its names, labels and meanings, computed by the broker itself when Prometheus scrapes. The
 * exporter's `cluster` and `broker` labels come from the registry's default labels; `brokerIP`
 * is the broker's `ip:port`, as the exporter takes it from the cluster info.
 */
export function registerExporterMetrics(registry: Registry, ctx: BrokerContext): void {
  const registers = [registry];
  const { metrics, stats, store, topics } = ctx;
  const brokerIP = (): string => `${ctx.storeHost.ip}:${ctx.storeHost.port}`;

  new Gauge({
    name: 'rocketmq_broker_tps',
    help: 'Messages stored per second over the last minute (BROKER_PUT_NUMS)',
    labelNames: ['brokerIP'],
    registers,
    collect() {
      this.reset();
      this.set({ brokerIP: brokerIP() }, stats.putTps(MINUTE_SECONDS));
    },
  });
  new Gauge({
    name: 'rocketmq_broker_qps',
    help: 'Messages returned by pulls per second over the last minute (BROKER_GET_NUMS)',
    labelNames: ['brokerIP'],
    registers,
    collect() {
      this.reset();
      this.set({ brokerIP: brokerIP() }, stats.getTps(MINUTE_SECONDS));
    },
  });

  const rateGauge = (
    name: string,
    help: string,
    rates: CounterRates<'topic'> | CounterRates<'topic' | 'group'>,
    labelNames: ('topic' | 'group')[],
  ): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        await rates.sample();
        this.reset();
        for (const { labels, perSecond } of await rates.rates()) {
          if (!isRetryOrDlq(String(labels.topic))) this.set(labels, perSecond);
        }
      },
    });
  };
  rateGauge(
    'rocketmq_producer_tps',
    'Messages stored per second over the last minute, by topic (TOPIC_PUT_NUMS)',
    new CounterRates(metrics.messagesPut),
    ['topic'],
  );
  rateGauge(
    'rocketmq_producer_message_size',
    'Message body bytes stored per second over the last minute, by topic (TOPIC_PUT_SIZE)',
    new CounterRates(metrics.bytesPut),
    ['topic'],
  );
  rateGauge(
    'rocketmq_consumer_tps',
    'Messages pulled per second over the last minute, by topic and group (GROUP_GET_NUMS)',
    new CounterRates(metrics.messagesGot),
    ['topic', 'group'],
  );
  rateGauge(
    'rocketmq_consumer_message_size',
    'Bytes pulled per second over the last minute, by topic and group (GROUP_GET_SIZE)',
    new CounterRates(metrics.bytesGot),
    ['topic', 'group'],
  );

  new Gauge({
    name: 'rocketmq_producer_offset',
    help: 'Sum of the max offsets of the topic queues on this broker',
    labelNames: ['topic'],
    registers,
    collect() {
      this.reset();
      for (const config of topics.topics()) {
        let sum = 0;
        for (let queueId = 0; queueId < config.writeQueueNums; queueId++) {
          sum += store.getMaxOffsetInQueue(config.topicName, queueId);
        }
        this.set({ topic: config.topicName }, sum);
      }
    },
  });

  new Gauge({
    name: 'rocketmq_group_diff',
    help: 'Messages not yet consumed by a clustering consumer group on this broker (consume stats diff)',
    labelNames: ['group', 'topic', 'countOfOnlineConsumers', 'msgModel'],
    registers,
    collect() {
      this.reset();
      for (const p of consumeProgress(ctx)) {
        if (p.messageModel !== CLUSTERING) continue;
        const labels = {
          group: p.group,
          topic: p.topic,
          countOfOnlineConsumers: String(p.onlineConsumers),
          msgModel: CLUSTERING_ORDINAL,
        };
        this.set(labels, p.diff);
      }
    },
  });
  new Gauge({
    name: 'rocketmq_group_get_latency_by_storetime',
    help: 'Age in ms of the oldest message a clustering consumer group has not consumed (0 when caught up)',
    labelNames: ['topic', 'group'],
    registers,
    async collect() {
      const now = Date.now();
      const latencies: [{ topic: string; group: string }, number][] = [];
      for (const p of consumeProgress(ctx)) {
        if (p.messageModel !== CLUSTERING) continue;
        latencies.push([{ topic: p.topic, group: p.group }, await consumeLatencyMs(ctx, p, now)]);
      }
      this.reset();
      for (const [labels, ms] of latencies) this.set(labels, ms);
    },
  });

  const brokerHost = hostname();
  for (const [suffix, key] of RUNTIME_GAUGES) {
    new Gauge({
      name: `rocketmq_brokeruntime_${suffix}`,
      help: `GET_BROKER_RUNTIME_INFO ${key}`,
      labelNames: RUNTIME_LABELS,
      registers,
      collect() {
        this.reset();
        const info = { ...store.runtimeInfo(), ...stats.runtimeInfo() };
        const value = Number(info[key]);
        // The store reports −1 for a disk ratio it has not measured yet: no sample, not −1.
        if (info[key] === undefined || !Number.isFinite(value) || value < 0) return;
        this.set(
          {
            brokerIP: brokerIP(),
            brokerHost,
            des: OUR_VERSION_NAME,
            boottime: info.bootTimestamp ?? '',
            broker_version: String(OUR_VERSION),
          },
          value,
        );
      },
    });
  }
}
