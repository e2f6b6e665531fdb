import { performance } from 'node:perf_hooks';
import { AdminClient } from '../client/admin-client';
import { Producer } from '../client/producer';
import { PushConsumer } from '../client/push-consumer';
import { createLogger, type Logger } from '../common/logger';
import { closedLoop, type Publish } from '../bench/load/generator';
import { ageOf, PayloadFactory, stampClock } from '../bench/load/payload';
import { numberOption } from '../bench/options';
import { LiveStats, type RunSummary } from '../bench/stats/live-stats';
import { UsageError, type ParsedArgs } from './args';

type SendMode = 'async' | 'sync' | 'oneway';

interface BenchOptions {
  namesrvAddr: string;
  topic: string;
  cluster: string;
  group: string;
  queues: number;
  mode: SendMode;
  producers: number;
  window: number;
  batchSize: number;
  size: number;
  durationMs: number;
  count: number;
  consumers: number;
}

function parseBenchOptions(args: ParsedArgs): BenchOptions {
  const mode = args.long.get('mode') ?? 'async';
  if (mode !== 'async' && mode !== 'sync' && mode !== 'oneway') {
    throw new UsageError(`--mode must be async, sync or oneway, got "${mode}"`);
  }
  const count = numberOption(args, 'count', 0, 0);
  return {
    namesrvAddr: args.short.get('n') ?? process.env.NAMESRV_ADDR ?? '127.0.0.1:9876',
    topic: args.short.get('t') ?? 'BenchmarkTest',
    cluster: args.short.get('c') ?? 'DefaultCluster',
    group: args.short.get('g') ?? 'BenchmarkConsumerGroup',
    queues: numberOption(args, 'queues', 8),
    mode,
    producers: numberOption(args, 'producers', 1, 0),
    window: numberOption(args, 'window', 128),
    batchSize: numberOption(args, 'batchSize', 1),
    size: numberOption(args, 'size', 1024, 8),
    // With --count and no --duration the count alone ends the run.
    durationMs: numberOption(args, 'duration', count > 0 ? Number.POSITIVE_INFINITY : 60) * 1000,
    count,
    consumers: numberOption(args, 'consumers', 0, 0),
  };
}

/**
 * `rocketmq-ts bench`: RocketMQ's benchmark Producer and Consumer in one command. Producers
 * send 1 KiB (by default) incompressible bodies stamped with their send time; consumers in one
 * group measure send → receive time. Every second a line of send and receive TPS with average
 * and maximum RT; at the end percentiles, totals and a JSON summary line.
 */
export async function runBench(args: ParsedArgs): Promise<void> {
  const options = parseBenchOptions(args);
  const logger = createLogger('bench', process.env.LOG_LEVEL ?? 'warn', 'stderr');
  await ensureTopic(options, logger);

  const stats = new LiveStats(performance.now());
  const consumers = await startConsumers(options, stats, logger);
  const producer =
    options.producers > 0
      ? new Producer({
          namesrvAddr: options.namesrvAddr,
          producerGroup: 'BenchmarkProducerGroup',
          logger,
        })
      : undefined;
  await producer?.start();

  let stopping = false;
  const onSignal = () => (stopping = true);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const ticker = setInterval(
    () => process.stdout.write(`${stats.intervalLine(performance.now())}\n`),
    1000,
  );
  const end = performance.now() + options.durationMs;
  const running = () =>
    !stopping &&
    performance.now() < end &&
    (options.count === 0 || stats.sentMessages < options.count);
  let sendEnd = performance.now();
  try {
    if (producer) await produce(producer, options, stats, running);
    else while (running()) await new Promise((r) => setTimeout(r, 100));
    sendEnd = performance.now();
    if (consumers.length > 0 && producer) await waitForConsumersToCatchUp(stats, () => stopping);
  } finally {
    clearInterval(ticker);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(consumers.map((c) => c.shutdown()));
    await producer?.shutdown();
  }
  process.stdout.write(formatSummary(stats.summary(sendEnd, performance.now()), options));
}

/** Creates the topic on every master of the cluster unless the name server routes it. */
async function ensureTopic(options: BenchOptions, logger: Logger): Promise<void> {
  const admin = new AdminClient({ namesrvAddr: options.namesrvAddr, logger });
  try {
    const exists = await admin.topicRoute(options.topic).then(
      () => true,
      () => false,
    );
    if (exists) return;
    const masters = await admin.clusterMasterAddrs(options.cluster);
    if (masters.length === 0) throw new Error(`no master broker in cluster ${options.cluster}`);
    for (const addr of masters) {
      await admin.createTopic(addr, {
        topic: options.topic,
        readQueueNums: options.queues,
        writeQueueNums: options.queues,
      });
    }
    const deadline = Date.now() + 10_000;
    while (
      !(await admin.topicRoute(options.topic).then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`the name server does not route ${options.topic}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    admin.close();
  }
}

async function startConsumers(
  options: BenchOptions,
  stats: LiveStats,
  logger: Logger,
): Promise<PushConsumer[]> {
  const consumers: PushConsumer[] = [];
  // A new group may start at the queue's first offset: older messages count, but their
  // send → receive time belongs to another run.
  const runStart = stampClock();
  for (let i = 0; i < options.consumers; i++) {
    const consumer = new PushConsumer({
      namesrvAddr: options.namesrvAddr,
      consumerGroup: options.group,
      instanceName: `bench-${process.pid}-${i}`,
      consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
      logger,
    });
    consumer.subscribe(options.topic, '*');
    consumer.listenConcurrently((msgs) => {
      const now = stampClock();
      for (const msg of msgs) stats.received(ageOf(msg.body, now, runStart));
      return 'CONSUME_SUCCESS';
    });
    await consumer.start();
    consumers.push(consumer);
  }
  return consumers;
}

/**
 * Keeps `producers × window` sends in flight (async), `producers` sends (sync: each producer
 * waits for its answer), or `producers × window` one-way writes; each send carries
 * `batchSize` messages (SEND_BATCH_MESSAGE above 1).
 */
async function produce(
  producer: Producer,
  options: BenchOptions,
  stats: LiveStats,
  running: () => boolean,
): Promise<void> {
  const payload = new PayloadFactory(options.size);
  const { topic, batchSize } = options;
  const send: Publish =
    batchSize > 1
      ? async (body) => {
          const bodies = [body];
          while (bodies.length < batchSize) bodies.push(payload.next());
          await producer.sendBatch(bodies.map((b) => ({ topic, body: b })));
        }
      : options.mode === 'oneway'
        ? (body) => producer.sendOneway({ topic, body })
        : async (body) => {
            await producer.send({ topic, body });
          };
  const concurrency =
    options.mode === 'sync' ? options.producers : options.producers * options.window;
  await closedLoop(send, payload, concurrency, running, {
    acked: (latencyMs) => stats.sent(latencyMs, batchSize),
    failed: (err) => stats.failed(err, batchSize),
  });
}

/** After the producers stop, waits until nothing more arrives for a second (at most 10 s). */
async function waitForConsumersToCatchUp(stats: LiveStats, stopping: () => boolean) {
  const deadline = performance.now() + 10_000;
  let last = -1;
  while (!stopping() && performance.now() < deadline) {
    const received = stats.receivedMessages;
    if (received === last || received >= stats.sentMessages) return;
    last = received;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function formatSummary(summary: RunSummary, options: BenchOptions): string {
  const rt = (label: string, l: RunSummary['sendRt']) =>
    `${label}: p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, p99.9 ${l.p999.toFixed(3)} ms, ` +
    `avg ${l.mean.toFixed(3)} ms, max ${l.max.toFixed(3)} ms`;
  const lines = [
    '',
    `${summary.seconds.toFixed(1)} s: sent ${summary.sent} (${summary.sendTps.toFixed(0)}/s), ` +
      `failed ${summary.sendFailed}, received ${summary.received} (${summary.receiveTps.toFixed(0)}/s)`,
    rt('send RT', summary.sendRt),
  ];
  if (summary.endToEnd.count > 0) lines.push(rt('send→receive', summary.endToEnd));
  if (summary.firstError) lines.push(`first error: ${summary.firstError}`);
  lines.push(JSON.stringify({ bench: 'summary', options, ...summary }));
  return `${lines.join('\n')}\n`;
}
