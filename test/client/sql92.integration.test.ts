/**
 * SQL92 subscriptions end to end (broker-internals.md §12.2): a name server, a broker with
 * `enablePropertyFilter=true` and one without, as real processes, and our producer and consumers.
 */
import { BrokerApi } from '../../client/broker-api';
import type { MessageExt } from '../../client/message';
import type { MessageQueue } from '../../client/message-queue';
import { MessageSelector } from '../../client/message-selector';
import { Producer } from '../../client/producer';
import { PullConsumer } from '../../client/pull-consumer';
import { PushConsumer } from '../../client/push-consumer';
import { RemotingClient } from '../../common/net/client';
import { buildSubscriptionData } from '../../common/protocol/broker-bodies';
import { ResponseCode } from '../../common/protocol/codes';
import { RemotingError } from '../../common/protocol/errors';
import { type RunningBroker, startBroker, waitFor } from '../broker/support';
import { removeDir } from '../support/processes';
import { silent, startCluster, type TestCluster } from './cluster';

const TOPIC = 'SqlTopic';
const NO_FILTER_TOPIC = 'SqlTopicWithoutFilter';
const TOTAL = 10_000;
const REGIONS = ['eu', 'us', 'ap'];

let cluster: TestCluster;
let noFilterBroker: RunningBroker;
let producer: Producer;

/** Message i: body `i`, tag TagA/TagB alternating, region cycling, `a = i` except every 7th. */
function props(i: number): Record<string, string> {
  const p: Record<string, string> = { region: REGIONS[i % 3] };
  if (i % 7 !== 3) p.a = String(i);
  return p;
}
const tagOf = (i: number) => (i % 2 === 0 ? 'TagA' : 'TagB');

/** The bodies of 0..TOTAL-1 that `matches` accepts, as the expected set. */
function expected(matches: (i: number) => boolean): string[] {
  return Array.from({ length: TOTAL }, (_, i) => i)
    .filter(matches)
    .map(String);
}

function withA(i: number, test: (a: number) => boolean): boolean {
  const a = props(i).a;
  return a !== undefined && test(Number(a));
}

async function pulledFromBroker(group: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${cluster.broker.httpPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('rmqts_broker_messages_pulled_total{') &&
        l.includes(`topic="${TOPIC}"`) &&
        l.includes(`group="${group}"`),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** The RemotingError `promise` rejects with (fails the test if it resolves or fails otherwise). */
async function refusal(promise: Promise<unknown>): Promise<RemotingError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof RemotingError))
    throw new Error(`expected a RemotingError, got ${String(err)}`);
  return err;
}

function pushConsumer(group: string): PushConsumer {
  return new PushConsumer({
    namesrvAddr: cluster.namesrv.addr,
    consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger: silent,
  });
}

/** How start() fails for a push consumer subscribed to `topic` with `sql`. */
function refusedStart(group: string, topic: string, sql: string): Promise<RemotingError> {
  const consumer = pushConsumer(group);
  consumer.subscribe(topic, MessageSelector.bySql(sql));
  consumer.listenConcurrently(() => 'CONSUME_SUCCESS');
  return refusal(consumer.start());
}

beforeAll(async () => {
  cluster = await startCluster({ enablePropertyFilter: 'true' });
  noFilterBroker = await startBroker(cluster.namesrv.addr, { brokerName: 'broker-nofilter' });

  await cluster.createTopic(TOPIC, 4);
  await cluster.admin.createTopic(noFilterBroker.addr, {
    topic: NO_FILTER_TOPIC,
    readQueueNums: 2,
    writeQueueNums: 2,
  });
  await waitFor(
    () =>
      cluster.admin.topicRoute(NO_FILTER_TOPIC).then(
        () => true,
        () => false,
      ),
    10_000,
    `route of ${NO_FILTER_TOPIC}`,
  );
  producer = new Producer({
    namesrvAddr: cluster.namesrv.addr,
    producerGroup: 'sql92-producer',
    logger: silent,
  });
  await producer.start();
  const send = (i: number) =>
    producer.send({ topic: TOPIC, body: String(i), tags: tagOf(i), properties: props(i) });
  // One send alone first: concurrent first sends of a topic can race the producer's route
  // lookup and auto-create the topic on the other broker through TBW102.
  await send(0);
  for (let start = 1; start < TOTAL; start += 100) {
    const sends = [];
    for (let i = start; i < Math.min(TOTAL, start + 100); i++) {
      sends.push(send(i));
    }
    await Promise.all(sends);
  }
}, 60_000);

afterAll(async () => {
  await producer?.shutdown();
  await noFilterBroker?.stop();
  if (noFilterBroker) removeDir(noFilterBroker.dataDir);
  await cluster?.stop();
});

test('a push consumer subscribed by SQL92 receives exactly the matching messages, and only they are pulled', async () => {
  const group = 'sql92-push';
  const want = expected(
    (i) => withA(i, (a) => a >= 10 && a <= 5000) && ['eu', 'us'].includes(props(i).region),
  );
  const received: MessageExt[] = [];
  const consumer = pushConsumer(group);
  consumer.subscribe(
    TOPIC,
    MessageSelector.bySql("a BETWEEN 10 AND 5000 AND region IN ('eu','us')"),
  );
  consumer.listenConcurrently((msgs) => {
    received.push(...msgs);
    return 'CONSUME_SUCCESS';
  });
  try {
    await consumer.start();
    await waitFor(() => received.length >= want.length, 30_000, 'the matching messages');
    // Whatever else could still arrive would show up in the broker's pull count.
    await waitFor(async () => (await pulledFromBroker(group)) >= want.length, 5000, 'the metric');
  } finally {
    await consumer.shutdown();
  }
  const bodies = received.map((m) => m.body.toString()).sort();
  expect(bodies).toEqual([...want].sort());
  expect(new Set(bodies).size).toBe(want.length);
  expect(want.length).toBeGreaterThan(2000);
  // The broker returned the matches and nothing else: the other messages never crossed.
  expect(await pulledFromBroker(group)).toBe(want.length);
});

test('a pull consumer with SQL92 (TAGS, IS NULL) gets batches holding only matches', async () => {
  const consumer = new PullConsumer({
    namesrvAddr: cluster.namesrv.addr,
    consumerGroup: 'sql92-pull',
    logger: silent,
  });
  await consumer.start();
  const selector = MessageSelector.bySql("TAGS = 'TagA' AND (a > 9000 OR a IS NULL)");
  const got: string[] = [];
  let emptyPulls = 0;
  try {
    for (const mq of await consumer.fetchSubscribeMessageQueues(TOPIC)) {
      const max = await consumer.maxOffset(mq);
      let offset = 0;
      while (offset < max) {
        const result = await consumer.pull(mq, offset, 32, { subExpression: selector });
        if (result.status === 'NO_MATCHED_MSG') emptyPulls++;
        else expect(result.status).toBe('FOUND');
        got.push(...result.messages.map((m) => m.body.toString()));
        offset = result.nextBeginOffset;
      }
    }
  } finally {
    await consumer.shutdown();
  }
  const want = expected((i) => tagOf(i) === 'TagA' && (props(i).a === undefined || i > 9000));
  // The client does not filter SQL92 subscriptions, so `got` is what the broker sent.
  expect(got.sort()).toEqual([...want].sort());
  expect(want.length).toBeGreaterThan(500);
  expect(emptyPulls).toBeGreaterThan(0);
});

test('a bad expression fails start() with SUBSCRIPTION_PARSE_FAILED and the parser message', async () => {
  const err = await refusedStart('sql92-bad', TOPIC, 'a BETWEEN 1');
  expect(err.code).toBe(ResponseCode.SUBSCRIPTION_PARSE_FAILED);
  expect(err.message).toContain(
    'Invalid SQL92 filter expression at column 12: expected AND between the bounds of BETWEEN',
  );
  expect(err.message).toContain(`topic ${TOPIC}`);
});

test('a heartbeat carrying a bad expression is refused and registers nothing', async () => {
  const remoting = new RemotingClient({ logger: silent });
  const api = new BrokerApi(remoting);
  const group = 'sql92-bad-heartbeat';
  try {
    const heartbeat = api.heartbeat(cluster.broker.addr, {
      clientID: 'sql92-test-client',
      producerDataSet: [],
      consumerDataSet: [
        {
          groupName: group,
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
          subscriptionDataSet: [buildSubscriptionData(TOPIC, "region = 'eu' AND", 1, 'SQL92')],
          unitMode: false,
        },
      ],
    });
    const err = await refusal(heartbeat);
    expect(err.code).toBe(ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    expect(err.message).toMatch(/^Invalid SQL92 filter expression at column 18: /);
    // A pull relying on the registered subscription finds no group: the bad one never got in.
    const mq: MessageQueue = { topic: TOPIC, brokerName: 'broker-a', queueId: 0 };
    const pull = api.pull(
      cluster.broker.addr,
      mq.brokerName,
      {
        consumerGroup: group,
        topic: TOPIC,
        queueId: 0,
        queueOffset: 0,
        maxMsgNums: 32,
        sysFlag: 0,
        commitOffset: 0,
        suspendTimeoutMillis: 0,
        subVersion: 1,
        bname: mq.brokerName,
      },
      5000,
    );
    expect((await refusal(pull)).code).toBe(ResponseCode.SUBSCRIPTION_NOT_EXIST);
  } finally {
    remoting.close();
  }
});

test('a broker without enablePropertyFilter refuses SQL92 consumers', async () => {
  const err = await refusedStart('sql92-unsupported', NO_FILTER_TOPIC, 'a > 5');
  expect(err.code).toBe(ResponseCode.SYSTEM_ERROR);
  expect(err.message).toContain('The broker does not support consumer to filter message by SQL92');

  const pull = new PullConsumer({
    namesrvAddr: cluster.namesrv.addr,
    consumerGroup: 'sql92-unsupported-pull',
    logger: silent,
  });
  await pull.start();
  try {
    const mq: MessageQueue = { topic: NO_FILTER_TOPIC, brokerName: 'broker-nofilter', queueId: 0 };
    const pullErr = await refusal(
      pull.pull(mq, 0, 32, { subExpression: MessageSelector.bySql('a > 5') }),
    );
    expect(pullErr.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(pullErr.message).toBe('The broker does not support consumer to filter message by SQL92');
    // Tag subscriptions work there as before.
    expect((await pull.pull(mq, 0, 32, { subExpression: '*' })).status).toBe('NO_NEW_MSG');
  } finally {
    await pull.shutdown();
  }
});

test('a SQL92 selector needs an expression; a plain string stays a tag subscription', () => {
  const consumer = pushConsumer('sql92-empty');
  expect(() => consumer.subscribe(TOPIC, MessageSelector.bySql('  '))).toThrow(
    `Expression can't be empty! SQL92 subscription of topic ${TOPIC}`,
  );
  consumer.subscribe(TOPIC, 'TagA || TagB');
  expect(consumer.consumerData().subscriptionDataSet[0]).toMatchObject({
    expressionType: 'TAG',
    tagsSet: ['TagA', 'TagB'],
  });
});
