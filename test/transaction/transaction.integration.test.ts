/**
 * Transactions end to end with a real name server and broker: commit, rollback, check-back,
 * check limit, and the check count across a broker restart; a consumer of the real topic sees
 * each committed message exactly once and nothing else.
 */
import { AdminClient } from '../../client/admin-client';
import type { MessageExt } from '../../client/message';
import { PushConsumer } from '../../client/push-consumer';
import {
  LocalTransactionState,
  TransactionProducer,
  type TransactionListener,
} from '../../client/transaction-producer';
import { decodeOffsetMsgId } from '../../common/message/message-id';
import { MessageConst } from '../../common/message/properties';
import { MessageSysFlag } from '../../common/message/sysflag';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import { EndTransactionRequestHeader } from '../../common/protocol/headers';
import { sleep, startBroker, waitFor, type RunningBroker } from '../broker/support';
import { silent } from '../client/cluster';
import { removeDir, startNamesrv, type RunningNamesrv } from '../support/processes';

const TOPIC = 'TxTopic';
const GROUP = 'tx-producer';
const CHECK_MAX = 3;
const brokerFlags = {
  transactionTimeOut: 1000,
  transactionCheckInterval: 1000,
  transactionCheckMax: CHECK_MAX,
};

let namesrv: RunningNamesrv;
let broker: RunningBroker;
let admin: AdminClient;
let consumer: PushConsumer;
/** Body → how many times the consumer of the real topic received it. */
const received = new Map<string, number>();
/** Bodies whose transactions the test committed. */
const committed = new Set<string>();
const producers: TransactionProducer[] = [];
/** Body → how many times a producer of the group was asked about it. */
const checks = new Map<string, number>();

/** Every state the listener returns is looked up by body: `<exec>-<check>-<n>`. */
const listener = ((): TransactionListener<undefined> => {
  const state = (word: string): LocalTransactionState =>
    word === 'commit'
      ? LocalTransactionState.COMMIT
      : word === 'rollback'
        ? LocalTransactionState.ROLLBACK
        : LocalTransactionState.UNKNOWN;
  return {
    executeLocalTransaction: (msg) => state(String(msg.body).split('-')[0]),
    checkLocalTransaction: (msg: MessageExt) => {
      const body = msg.body.toString();
      checks.set(body, (checks.get(body) ?? 0) + 1);
      return state(body.split('-')[1]);
    },
  };
})();

async function startProducer(): Promise<TransactionProducer> {
  const producer = new TransactionProducer({
    namesrvAddr: namesrv.addr,
    producerGroup: GROUP,
    logger: silent,
    heartbeatBrokerIntervalMs: 500,
    pollNameServerIntervalMs: 500,
    transactionListener: listener,
  });
  await producer.start();
  producers.push(producer);
  return producer;
}

beforeAll(async () => {
  namesrv = await startNamesrv();
  broker = await startBroker(namesrv.addr, brokerFlags);
  admin = new AdminClient({ namesrvAddr: namesrv.addr, logger: silent });
  await admin.createTopic(broker.addr, { topic: TOPIC, readQueueNums: 4, writeQueueNums: 4 });
  await waitFor(
    () =>
      admin.topicRoute(TOPIC).then(
        () => true,
        () => false,
      ),
    10_000,
    'route',
  );
  consumer = new PushConsumer({
    namesrvAddr: namesrv.addr,
    consumerGroup: 'tx-consumer',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger: silent,
    pollNameServerIntervalMs: 500,
    rebalanceIntervalMs: 500,
  });
  consumer.subscribe(TOPIC, '*');
  consumer.listenConcurrently((msgs) => {
    for (const m of msgs) {
      if (m.properties.has(MessageConst.TRAN_MSG)) throw new Error('a half message was delivered');
      const body = m.body.toString();
      received.set(body, (received.get(body) ?? 0) + 1);
    }
    return 'CONSUME_SUCCESS';
  });
  await consumer.start();
});

afterAll(async () => {
  for (const p of producers) await p.shutdown();
  await consumer?.shutdown();
  admin?.close();
  await broker?.stop();
  await namesrv?.stop();
  removeDir(broker.dataDir);
  removeDir(namesrv.dataDir);
});

const waitReceived = (body: string) =>
  waitFor(() => received.has(body), 20_000, `delivery of ${body}`);

test('committed transactions are delivered, rolled-back ones never', async () => {
  const producer = await startProducer();
  const results = [];
  for (let i = 0; i < 10; i++) {
    const word = i % 2 === 0 ? 'commit' : 'rollback';
    results.push(
      await producer.sendMessageInTransaction(
        { topic: TOPIC, body: `${word}-none-${i}`, tags: 'tx' },
        undefined,
      ),
    );
  }
  expect(results.map((r) => r.localTransactionState)).toEqual(
    Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'COMMIT' : 'ROLLBACK')),
  );
  expect(results.every((r) => r.transactionId === r.msgId)).toBe(true);
  for (let i = 0; i < 10; i += 2) committed.add(`commit-none-${i}`);
  for (const body of committed) await waitReceived(body);
  const msg = await admin.viewMessage(results[0].offsetMsgId);
  expect(msg.topic).toBe('RMQ_SYS_TRANS_HALF_TOPIC');
  expect(msg.properties.get(MessageConst.REAL_TOPIC)).toBe(TOPIC);
});

test('END_TRANSACTION naming the wrong group, offset or nothing at all is refused', async () => {
  const producer = await startProducer();
  const sent = await producer.sendMessageInTransaction(
    { topic: TOPIC, body: 'unknown-rollback-forged' },
    undefined,
  );
  const end = (fields: Record<string, string>) =>
    admin.remoting.invoke(broker.addr, createRequest(RequestCode.END_TRANSACTION, fields), 3000);
  const header = {
    producerGroup: GROUP,
    tranStateTableOffset: sent.queueOffset,
    commitLogOffset: decodeOffsetMsgId(sent.offsetMsgId).physicalOffset,
    commitOrRollback: MessageSysFlag.TRANSACTION_COMMIT_TYPE,
    msgId: sent.msgId,
  };
  const wrongGroup = await end(
    EndTransactionRequestHeader.encode({ ...header, producerGroup: 'other' }),
  );
  expect([wrongGroup.code, wrongGroup.remark]).toEqual([
    ResponseCode.SYSTEM_ERROR,
    'The producer group wrong',
  ]);
  const wrongOffset = await end(
    EndTransactionRequestHeader.encode({ ...header, commitLogOffset: header.commitLogOffset + 1 }),
  );
  expect(wrongOffset.code).toBe(ResponseCode.SYSTEM_ERROR);
  const missing = await end({ producerGroup: GROUP });
  expect(missing.code).not.toBe(ResponseCode.SUCCESS);
  // The check-back rolls it back; the last test makes sure it was never delivered.
  await waitFor(() => checks.has('unknown-rollback-forged'), 20_000, 'check of the forged one');
});

test('UNKNOWN transactions are checked back at another producer of the group and resolved', async () => {
  const first = await startProducer();
  await first.sendMessageInTransaction({ topic: TOPIC, body: 'unknown-commit-1' }, undefined);
  await first.sendMessageInTransaction({ topic: TOPIC, body: 'unknown-rollback-1' }, undefined);
  // The producer that sent them goes away before it knows the outcome.
  await first.shutdown();
  producers.splice(producers.indexOf(first), 1);
  await startProducer();
  committed.add('unknown-commit-1');
  await waitReceived('unknown-commit-1');
  await waitFor(() => checks.has('unknown-rollback-1'), 20_000, 'check of the rollback');
});

test(`a transaction still UNKNOWN after ${CHECK_MAX} checks is rolled back`, async () => {
  const producer = await startProducer();
  await producer.sendMessageInTransaction({ topic: TOPIC, body: 'unknown-unknown-1' }, undefined);
  await broker.waitForLog(
    (l) => typeof l.msg === 'string' && l.msg.includes('checked transactionCheckMax times'),
    30_000,
  );
  // Every producer of the group may have been asked; together they were asked CHECK_MAX times.
  await sleep(2500);
  expect(checks.get('unknown-unknown-1')).toBe(CHECK_MAX);
});

test('the check count survives a broker restart', async () => {
  const producer = await startProducer();
  const body = 'unknown-unknown-restart';
  await producer.sendMessageInTransaction({ topic: TOPIC, body }, undefined);
  await waitFor(() => (checks.get(body) ?? 0) >= 1, 20_000, 'first check');
  await broker.stop();
  const { dataDir, port } = broker;
  broker = await startBroker(namesrv.addr, { ...brokerFlags, listenPort: port }, dataDir);
  await broker.waitForLog(
    (l) => typeof l.msg === 'string' && l.msg.includes('checked transactionCheckMax times'),
    30_000,
  );
  await sleep(2500);
  expect(checks.get(body)).toBe(CHECK_MAX);
});

test('the consumer saw each committed message exactly once and nothing else', async () => {
  await sleep(1500);
  expect([...received.keys()].sort()).toEqual([...committed].sort());
  expect([...received.values()].every((n) => n === 1)).toBe(true);
});
