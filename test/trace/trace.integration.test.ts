/**
 * Message trace end to end: a traced producer and two traced consumer groups write their
 * records to RMQ_SYS_TRACE_TOPIC (created by the broker with traceTopicEnable), and
 * `admin queryMsgTraceById` prints the message's send, store and both consumptions.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Producer } from '../../client/producer';
import { PushConsumer } from '../../client/push-consumer';
import { queryMessageTrace } from '../../client/trace/trace-query';
import { LocalTransactionState, TransactionProducer } from '../../client/transaction-producer';
import { waitFor } from '../broker/support';
import { silent, startCluster, type TestCluster } from '../client/cluster';
import { CLI } from '../support/processes';

const TOPIC = 'TracedTopic';
let cluster: TestCluster;
let producer: Producer;
const consumers: PushConsumer[] = [];

beforeAll(async () => {
  cluster = await startCluster({ traceTopicEnable: 'true' });
  await cluster.createTopic(TOPIC, 2);
  producer = new Producer({
    namesrvAddr: cluster.namesrv.addr,
    producerGroup: 'traced-producer',
    logger: silent,
    enableMsgTrace: true,
    traceFlushIntervalMs: 200,
  });
  await producer.start();
});

afterAll(async () => {
  for (const c of consumers) await c.shutdown();
  await producer?.shutdown();
  await cluster?.stop();
});

async function startConsumer(group: string, seen: Set<string>): Promise<void> {
  const consumer = new PushConsumer({
    namesrvAddr: cluster.namesrv.addr,
    consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger: silent,
    enableMsgTrace: true,
    traceFlushIntervalMs: 200,
  });
  consumer.subscribe(TOPIC, '*');
  consumer.listenConcurrently((msgs) => {
    for (const m of msgs) seen.add(m.msgId);
    return 'CONSUME_SUCCESS';
  });
  await consumer.start();
  consumers.push(consumer);
}

test("a message's trace shows its send, where it was stored, and its consumption by two groups", async () => {
  const seenA = new Set<string>();
  const seenB = new Set<string>();
  await startConsumer('trace-group-a', seenA);
  await startConsumer('trace-group-b', seenB);
  const sent = await producer.send({ topic: TOPIC, body: 'traced', tags: 'T', keys: 'order-1' });
  await waitFor(() => seenA.has(sent.msgId) && seenB.has(sent.msgId), 20_000, 'consumption');

  await waitFor(
    async () => {
      const t = await queryMessageTrace(cluster.admin, sent.msgId);
      return t.sends.length === 1 && t.consumes.filter((c) => c.success === true).length === 2;
    },
    20_000,
    'trace records',
  );
  const trace = await queryMessageTrace(cluster.admin, sent.msgId);
  expect(trace.sends[0]).toMatchObject({
    group: 'traced-producer',
    topic: TOPIC,
    tags: 'T',
    keys: 'order-1',
    offsetMsgId: sent.offsetMsgId,
    success: true,
    msgType: 0,
  });
  expect(trace.stored).toMatchObject({ topic: TOPIC, queueOffset: sent.queueOffset });
  expect(trace.consumes.map((c) => c.group).sort()).toEqual(['trace-group-a', 'trace-group-b']);

  const { stdout } = await promisify(execFile)(process.execPath, [
    CLI,
    'admin',
    'queryMsgTraceById',
    '-n',
    cluster.namesrv.addr,
    '-i',
    sent.msgId,
  ]);
  expect(stdout).toContain(`Message ID: ${sent.msgId}`);
  expect(stdout).toMatch(/Pub\s+traced-producer\s+127\.0\.0\.1:\d+\s+\S+\s+\d+ms\s+success/);
  expect(stdout).toMatch(/Stored: \S+ on 127\.0\.0\.1:\d+, topic TracedTopic/);
  expect(stdout).toMatch(/Sub\s+trace-group-a\s+\S+\s+\S+\s+0\s+\d+ms\s+success/);
  expect(stdout).toMatch(/Sub\s+trace-group-b\s+\S+\s+\S+\s+0\s+\d+ms\s+success/);
});

test('a traced transaction shows its half message send and its commit', async () => {
  const tx = new TransactionProducer({
    namesrvAddr: cluster.namesrv.addr,
    producerGroup: 'traced-tx-producer',
    logger: silent,
    enableMsgTrace: true,
    traceFlushIntervalMs: 200,
    transactionListener: {
      executeLocalTransaction: () => LocalTransactionState.COMMIT,
      checkLocalTransaction: () => LocalTransactionState.COMMIT,
    },
  });
  await tx.start();
  try {
    const sent = await tx.sendMessageInTransaction({ topic: TOPIC, body: 'tx' }, undefined);
    await waitFor(
      async () => {
        const t = await queryMessageTrace(cluster.admin, sent.msgId);
        return t.transactions.length === 1 && t.consumes.length === 2;
      },
      20_000,
      'transaction trace',
    );
    const trace = await queryMessageTrace(cluster.admin, sent.msgId);
    expect(trace.sends[0]).toMatchObject({ group: 'traced-tx-producer', msgType: 1 });
    expect(trace.transactions[0]).toMatchObject({
      transactionId: sent.msgId,
      transactionState: 'COMMIT_MESSAGE',
      fromTransactionCheck: false,
    });
  } finally {
    await tx.shutdown();
  }
});
