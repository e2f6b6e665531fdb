/**
 * Debian's real Prometheus scrapes a running name server, a broker master and its slave, and the
 * operator (against the test Kubernetes API server), with the chart's alert rules loaded. Checks
 * through Prometheus's HTTP API that the series the dashboards and alerts read exist with
 * rocketmq-exporter's labels and move when messages flow, then evaluates every PromQL
 * expression of the chart's dashboards and alert rules and expects data from each.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { MessageExt } from '../../client/message';
import { Producer } from '../../client/producer';
import { PushConsumer } from '../../client/push-consumer';
import { rocketMQClusterCrd } from '../../operator/api/crd';
import { startBroker, waitFor, type RunningBroker } from '../broker/support';
import {
  alertRules,
  dashboardQueries,
  metricNames,
  RULES_FILE,
  substituteGrafanaVariables,
} from '../chart/support/promql';
import { ensurePromtool } from '../chart/support/tools';
import { KubeApiServer } from '../support/kube-api-server';
import type { Json } from '../support/kube-patch';
import {
  removeDir,
  startCli,
  type RunningNamesrv,
  type RunningProcess,
} from '../support/processes';
import { silent, startCluster, type TestCluster } from '../client/cluster';
import { PrometheusServer, type Sample } from './prometheus-server';
import { withBoolComparisons } from './promql-bool';

const CLUSTER = 'MetricsCluster';
const TOPIC = 'MetricsTopic';
const GROUP = 'metrics-group';
const FIRST_BATCH = 300;
const BACKLOG = 100;

/**
 * Queries (by their `what` below) that cannot have data in this setup, with the reason. Empty:
 * everything the dashboards and alerts read has data here; add an entry only with a reason.
 */
const NO_DATA_HERE: Record<string, string> = {};

let api: KubeApiServer;
let operator: RunningProcess | undefined;
let operatorHttpPort = 0;
let namesrv: RunningNamesrv;
let master: RunningBroker;
let slave: RunningBroker;
let prometheus: PrometheusServer;
let cluster: TestCluster;
let producer: Producer;
let dir: string;

beforeAll(async () => {
  // Debian's `prometheus` package brings both promtool and the server.
  ensurePromtool();
  dir = mkdtempSync(join(tmpdir(), 'rmqts-metrics-'));
  api = await KubeApiServer.start();
  api.installCrd(rocketMQClusterCrd() as unknown as Json);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfigYaml());
  operator = startCli(['operator', '--httpPort=0', '--httpHost=127.0.0.1', '--leaseRetryMs=200'], {
    KUBECONFIG: kubeconfig,
  });
  operatorHttpPort = (await operator.waitForLog((l) => l.msg === 'operator started'))
    .httpPort as number;
  await operator.waitForLog((l) => l.msg === 'controller started');
  await api
    .kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .createNamespacedCustomObject({
      group: 'rocketmq-ts.dev',
      version: 'v1alpha1',
      namespace: 'default',
      plural: 'rocketmqclusters',
      body: {
        apiVersion: 'rocketmq-ts.dev/v1alpha1',
        kind: 'RocketMQCluster',
        metadata: { name: 'metrics' },
        spec: {},
      },
    });

  cluster = await startCluster({ brokerClusterName: CLUSTER, flushDiskType: 'SYNC_FLUSH' });
  ({ namesrv, broker: master } = cluster);
  slave = await startBroker(namesrv.addr, {
    brokerClusterName: CLUSTER,
    brokerRole: 'SLAVE',
    brokerId: 1,
  });
  prometheus = await PrometheusServer.start(
    [
      { job: 'namesrv', targets: [`127.0.0.1:${namesrv.httpPort}`] },
      {
        job: 'broker',
        targets: [`127.0.0.1:${master.httpPort}`, `127.0.0.1:${slave.httpPort}`],
      },
      { job: 'operator', targets: [`127.0.0.1:${operatorHttpPort}`] },
    ],
    [RULES_FILE],
  );
  producer = new Producer({
    namesrvAddr: namesrv.addr,
    producerGroup: 'metrics-producer',
    logger: silent,
  });
  await producer.start();
}, 300_000);

afterAll(async () => {
  await producer?.shutdown();
  await prometheus?.stop();
  await slave?.stop();
  await cluster?.stop();
  await operator?.stop();
  await api?.stop();
  for (const d of [slave?.dataDir, dir]) {
    if (d) removeDir(d);
  }
});

/** Polls a query until `accept` holds for its samples; returns them, or throws with the last answer. */
async function eventually(
  expr: string,
  accept: (samples: Sample[]) => boolean,
  timeoutMs = 20_000,
): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  let samples: Sample[] = [];
  while (Date.now() < deadline) {
    samples = await prometheus.query(expr);
    if (accept(samples)) return samples;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `${expr}: not accepted within ${timeoutMs} ms; last answer ${JSON.stringify(samples)}`,
  );
}

const one = (predicate: (value: number) => boolean) => (samples: Sample[]) =>
  samples.length === 1 && predicate(Number(samples[0].value[1]));

async function sendMessages(count: number): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    const sends = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      sends.push(producer.send({ topic: TOPIC, body: `message ${i}`, tags: 'T' }));
    }
    await Promise.all(sends);
  }
}

test('every target is scraped; series carry the exporter labels and move when messages flow', async () => {
  await eventually('up', (s) => s.length === 4 && s.every((x) => x.value[1] === '1'));
  expect(await prometheus.value(`sum(rocketmq_broker_tps{brokerIP="${master.addr}"})`)).toBe(0);

  await cluster.createTopic(TOPIC, 4);
  await sendMessages(FIRST_BATCH);
  let received = 0;
  const consumer = new PushConsumer({
    namesrvAddr: namesrv.addr,
    consumerGroup: GROUP,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger: silent,
    persistConsumerOffsetIntervalMs: 500,
  });
  consumer.subscribe(TOPIC, '*');
  consumer.listenConcurrently((msgs: MessageExt[]) => {
    received += msgs.length;
    return 'CONSUME_SUCCESS';
  });
  await consumer.start();
  await waitFor(() => received >= FIRST_BATCH, 30_000, 'the first batch consumed');
  // While the group is online Prometheus sees its members.
  await eventually(
    `rocketmq_group_diff{group="${GROUP}",topic="${TOPIC}",countOfOnlineConsumers="1",msgModel="1"}`,
    one(() => true),
  );
  await consumer.shutdown(); // commits its offsets and leaves
  await sendMessages(BACKLOG); // nobody consumes these: lag in messages and in time

  const sel = `cluster="${CLUSTER}",broker="broker-a"`;
  const master0 = `${sel},brokerId="0"`;
  await eventually(
    `sum(rocketmq_group_diff{group="${GROUP}",topic="${TOPIC}"})`,
    one((v) => v === BACKLOG),
  );
  await eventually(
    `rocketmq_group_get_latency_by_storetime{${master0},topic="${TOPIC}",group="${GROUP}"}`,
    one((v) => v > 0),
  );
  await eventually(
    `rmqts_broker_messages_put_total{${master0},topic="${TOPIC}"}`,
    one((v) => v === FIRST_BATCH + BACKLOG),
  );
  await eventually(
    `rocketmq_producer_offset{${master0},topic="${TOPIC}"}`,
    one((v) => v === FIRST_BATCH + BACKLOG),
  );
  await eventually(
    `rmqts_broker_messages_pulled_total{${master0},topic="${TOPIC}",group="${GROUP}"}`,
    one((v) => v >= FIRST_BATCH),
  );
  // Rates the exporter reads as per-minute TPS: non-zero right after the flow.
  for (const expr of [
    `rocketmq_broker_tps{${master0},brokerIP="${master.addr}"}`,
    `rocketmq_broker_qps{${master0},brokerIP="${master.addr}"}`,
    `rocketmq_producer_tps{${master0},topic="${TOPIC}"}`,
    `rocketmq_producer_message_size{${master0},topic="${TOPIC}"}`,
    `rocketmq_consumer_tps{${master0},topic="${TOPIC}",group="${GROUP}"}`,
    `rocketmq_consumer_message_size{${master0},topic="${TOPIC}",group="${GROUP}"}`,
    `rmqts_broker_flush_duration_seconds_count{${master0}}`,
    `rmqts_broker_store_size_bytes{${master0}}`,
    `rmqts_broker_request_duration_seconds_count{${master0},code=~"SEND_MESSAGE.*"}`,
    `increase(rmqts_broker_messages_put_total{${master0},topic="${TOPIC}"}[1m])`,
  ]) {
    await eventually(
      expr,
      one((v) => v > 0),
    );
  }
  const runtime = await eventually(
    `rocketmq_brokeruntime_commitlog_disk_ratio{${master0}}`,
    one((v) => v > 0 && v < 1),
  );
  expect(Object.keys(runtime[0].metric)).toEqual(
    expect.arrayContaining([
      'cluster',
      'brokerIP',
      'brokerHost',
      'des',
      'boottime',
      'broker_version',
    ]),
  );
  expect(runtime[0].metric.brokerIP).toBe(master.addr);
  await eventually(
    `rocketmq_brokeruntime_remain_howmanydata_toflush{${master0}}`,
    one((v) => v >= 0),
  );

  // Roles and identity: one master, one slave, the slave's lag seen by the master.
  await eventually(
    `rmqts_broker_is_master{${master0}}`,
    one((v) => v === 1),
  );
  await eventually(
    `rmqts_broker_is_master{${sel},brokerId="1"}`,
    one((v) => v === 0),
  );
  await eventually(
    `count(rmqts_broker_info{${sel},version="V4_9_8"})`,
    one((v) => v === 2),
  );
  await eventually(
    `rocketmq_broker_commitlog_diff{${master0}}`,
    one((v) => v >= 0),
  );
  await eventually(
    'rmqts_namesrv_live_brokers',
    one((v) => v === 2),
  );

  // The operator: leader, the cluster's readiness, failover counters at 0, reconciles counted.
  await eventually(
    'rmqts_operator_is_leader',
    one((v) => v === 1),
  );
  await eventually(
    'rmqts_operator_cluster_ready{cluster_namespace="default",cluster="metrics"}',
    one((v) => v === 0 || v === 1),
  );
  await eventually(
    'rmqts_operator_failovers_total{cluster_namespace="default",cluster="metrics",group="broker-0"}',
    one((v) => v === 0),
  );
  await eventually(
    'sum(rmqts_operator_reconciles_total)',
    one((v) => v > 0),
  );
  await eventually(
    'rmqts_operator_managed_clusters',
    one((v) => v === 1),
  );
}, 180_000);

test('every metric, dashboard query and alert expression of the chart returns data', async () => {
  const dashboards = dashboardQueries().map((q) => ({
    what: `${q.dashboard} / ${q.source}`,
    expr: substituteGrafanaVariables(q.expr),
  }));
  const alerts = alertRules().map((r) => ({
    what: `alert ${r.alert}`,
    expr: withBoolComparisons(r.expr),
  }));
  const names = [...new Set([...dashboards, ...alerts].flatMap((q) => metricNames(q.expr)))];
  // A histogram's series are its _bucket, _sum and _count.
  const series = names.map((name) => ({
    what: `metric ${name}`,
    expr: `{__name__=~"${name}|${name}_count"}`,
  }));
  const queries = [...series, ...dashboards, ...alerts];
  expect(queries.length).toBeGreaterThan(40);

  // Range functions (delta, rate) need two scrapes of a series that appeared moments ago.
  let pending = queries.filter(({ what }) => !(what in NO_DATA_HERE));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const still = [];
    for (const query of pending) {
      if ((await prometheus.query(query.expr)).length === 0) still.push(query);
    }
    pending = still;
    if (pending.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(pending.map(({ what, expr }) => `${what}: ${expr}`)).toEqual([]);

  // Prometheus itself evaluates the rules file every second: no rule may be failing.
  const rules = (await prometheus.ruleGroups()).flatMap((g) => g.rules);
  expect(rules.length).toBe(alertRules().length);
  expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
}, 120_000);
