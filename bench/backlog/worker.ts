/**
 * One side of the backlog scenario in a process of its own, so the producer, the consumer and
 * the broker never share an event loop: `produce` sends 1 KiB bodies with an in-flight window
 * (as batches when `batchSize` > 1) until SIGTERM or `stopAfterBytes`; `consume` reads the
 * topic from its first offset with a push consumer until SIGTERM.
 *
 *   node dist/bench/backlog/worker.js '<WorkerSpec as JSON>'
 *
 * Prints its running totals as one JSON line (WorkerTotals) every REPORT_MS and a last one
 * with `final: true`; logs go to stderr.
 */
import { Producer } from '../../client/producer';
import { PushConsumer } from '../../client/push-consumer';
import { createLogger } from '../../common/logger';
import { closedLoop, type Publish } from '../load/generator';
import { PayloadFactory } from '../load/payload';

export interface WorkerSpec {
  role: 'produce' | 'consume';
  namesrvAddr: string;
  topic: string;
  /** Consumer group (consume). */
  group?: string;
  messageSize: number;
  /** Messages per send (produce). */
  batchSize: number;
  /** Sends in flight (produce). */
  window: number;
  /** Stop producing once this many body bytes are acknowledged (produce). */
  stopAfterBytes?: number;
}

/** Running totals, printed by the worker. Bytes are message body bytes. */
export interface WorkerTotals {
  messages: number;
  bytes: number;
  errors: number;
  firstError?: string;
  final?: boolean;
}

const REPORT_MS = 500;

async function main(specJson: string | undefined): Promise<void> {
  if (!specJson) throw new Error('usage: worker <WorkerSpec as JSON>');
  const spec = JSON.parse(specJson) as WorkerSpec;
  const logger = createLogger('bench-backlog', process.env.LOG_LEVEL ?? 'warn', 'stderr');
  const totals: WorkerTotals = { messages: 0, bytes: 0, errors: 0 };
  const print = () => process.stdout.write(`${JSON.stringify(totals)}\n`);
  const ticker = setInterval(print, REPORT_MS);
  let stopping = false;
  let stopped: () => void = () => undefined;
  const stop = new Promise<void>((resolve) => (stopped = resolve));
  process.once('SIGTERM', () => {
    stopping = true;
    stopped();
  });
  try {
    if (spec.role === 'produce') await produce(spec, totals, () => !stopping, logger);
    else await consume(spec, totals, stop, logger);
  } finally {
    clearInterval(ticker);
    totals.final = true;
    print();
  }
}

async function produce(
  spec: WorkerSpec,
  totals: WorkerTotals,
  running: () => boolean,
  logger: ReturnType<typeof createLogger>,
): Promise<void> {
  const producer = new Producer({
    namesrvAddr: spec.namesrvAddr,
    producerGroup: 'BenchBacklogProducer',
    logger,
  });
  await producer.start();
  const payload = new PayloadFactory(spec.messageSize);
  const { topic, batchSize } = spec;
  const send: Publish =
    batchSize > 1
      ? async (first) => {
          const msgs = [{ topic, body: first }];
          while (msgs.length < batchSize) msgs.push({ topic, body: payload.next() });
          await producer.sendBatch(msgs);
        }
      : async (body) => {
          await producer.send({ topic, body });
        };
  const limit = spec.stopAfterBytes ?? Number.POSITIVE_INFINITY;
  try {
    await closedLoop(send, payload, spec.window, () => running() && totals.bytes < limit, {
      acked: () => {
        totals.messages += batchSize;
        totals.bytes += batchSize * spec.messageSize;
      },
      failed: (err) => {
        totals.errors += batchSize;
        totals.firstError ??= err instanceof Error ? err.message : String(err);
      },
    });
  } finally {
    await producer.shutdown();
  }
}

async function consume(
  spec: WorkerSpec,
  totals: WorkerTotals,
  stop: Promise<void>,
  logger: ReturnType<typeof createLogger>,
): Promise<void> {
  const consumer = new PushConsumer({
    namesrvAddr: spec.namesrvAddr,
    consumerGroup: spec.group ?? `BenchBacklog_${spec.topic}`,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger,
  });
  consumer.subscribe(spec.topic, '*');
  consumer.listenConcurrently((msgs) => {
    for (const msg of msgs) {
      totals.messages++;
      totals.bytes += msg.body.length;
    }
    return 'CONSUME_SUCCESS';
  });
  await consumer.start();
  try {
    await stop;
  } finally {
    await consumer.shutdown();
  }
}

main(process.argv[2]).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
