import { Producer } from '../../client/producer';
import { PullConsumer } from '../../client/pull-consumer';
import type { MessageQueue } from '../../client/message-queue';
import { waitFor } from '../broker/support';
import { silent, startCluster, type TestCluster } from './cluster';

let cluster: TestCluster;
let producer: Producer;
let consumer: PullConsumer;
const topic = 'PullTopic';

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.createTopic(topic, 4);
  const namesrvAddr = cluster.namesrv.addr;
  producer = new Producer({ namesrvAddr, producerGroup: 'pull-test-producer', logger: silent });
  consumer = new PullConsumer({ namesrvAddr, consumerGroup: 'pull-test-group', logger: silent });
  await producer.start();
  await consumer.start();
});

afterAll(async () => {
  await consumer?.shutdown();
  await producer?.shutdown();
  await cluster?.stop();
});

const queue = (queueId: number): MessageQueue => ({ topic, brokerName: 'broker-a', queueId });

test('the subscribe queues come from the route', async () => {
  expect(await consumer.fetchSubscribeMessageQueues(topic)).toEqual([0, 1, 2, 3].map(queue));
});

test('a batch lands in one queue in order, with its tags, keys and ids', async () => {
  const msgs = Array.from({ length: 10 }, (_, i) => ({
    topic,
    body: `batch-${i}`,
    tags: i % 2 ? 'odd' : 'even',
    keys: [`k${i}`, 'batch'],
    properties: { index: String(i) },
  }));
  const result = await producer.sendBatch(msgs, { queue: queue(0) });
  expect(result.sendStatus).toBe('SEND_OK');
  const ids = result.msgId.split(',');
  expect(ids).toHaveLength(10);
  const pulled = await consumer.pull(queue(0), result.queueOffset, 32);
  expect(pulled.status).toBe('FOUND');
  expect(pulled.messages.map((m) => m.body.toString())).toEqual(msgs.map((m) => m.body));
  expect(pulled.messages.map((m) => m.msgId)).toEqual(ids);
  expect(pulled.messages.map((m) => m.queueOffset)).toEqual(
    msgs.map((_, i) => result.queueOffset + i),
  );
  expect(pulled.messages[3].keys).toBe('k3 batch');
  expect(pulled.messages[3].tags).toBe('odd');
  expect(pulled.messages[3].properties.get('index')).toBe('3');
  expect(pulled.nextBeginOffset).toBe(result.queueOffset + 10);
});

test('pulling by tag skips other tags and moves past them', async () => {
  const q = queue(1);
  const start = await consumer.maxOffset(q);
  for (const tags of ['A', 'B', 'A', 'C', 'B', 'A']) {
    await producer.send({ topic, body: tags, tags }, { queue: q });
  }
  const pulled = await consumer.pull(q, start, 32, { subExpression: 'A || C' });
  expect(pulled.messages.map((m) => m.tags)).toEqual(['A', 'A', 'C', 'A']);
  expect(pulled.nextBeginOffset).toBe(start + 6);
  const caughtUp = await consumer.pull(q, start + 6, 32, { subExpression: 'A' });
  expect(caughtUp.status).toBe('NO_NEW_MSG');
  expect(caughtUp.nextBeginOffset).toBe(start + 6);
});

test('large bodies are compressed on the wire and come back whole', async () => {
  const body = Buffer.alloc(200_000, 'rocketmq ');
  const result = await producer.send({ topic, body }, { queue: queue(2) });
  const pulled = await consumer.pull(queue(2), result.queueOffset, 1);
  expect(pulled.messages[0].body.equals(body)).toBe(true);
  expect(pulled.messages[0].sysFlag & 0x1).toBe(1);
});

test('oneway sends arrive, and round robin spreads sends over every queue', async () => {
  const before = await Promise.all([0, 1, 2, 3].map((i) => consumer.maxOffset(queue(i))));
  const used = new Set<number>();
  for (let i = 0; i < 8; i++) {
    used.add((await producer.send({ topic, body: `rr-${i}` })).messageQueue.queueId);
  }
  expect(used).toEqual(new Set([0, 1, 2, 3]));
  await producer.sendOneway({ topic, body: 'oneway' }, { queue: queue(3) });
  await waitFor(
    async () => (await consumer.maxOffset(queue(3))) === before[3] + 3,
    5000,
    'the oneway message',
  );
});

test('offsets: commit and fetch, min, max, search by time, earliest store time', async () => {
  const q = queue(3);
  await consumer.updateConsumeOffset(q, 2);
  expect(await consumer.fetchConsumeOffset(q)).toBe(2);
  const max = await consumer.maxOffset(q);
  expect(await consumer.minOffset(q)).toBe(0);
  expect(max).toBeGreaterThan(0);
  const earliest = await consumer.earliestMsgStoreTime(q);
  expect(earliest).toBeGreaterThan(Date.now() - 60_000);
  expect(await consumer.searchOffset(q, earliest - 1000)).toBe(0);
});

test('a delayed message becomes visible only after its delay level (1 = 1 s)', async () => {
  const q = queue(2);
  const start = await consumer.maxOffset(q);
  const sentAt = Date.now();
  await producer.send({ topic, body: 'later', delayTimeLevel: 1 }, { queue: q });
  expect((await consumer.pull(q, start, 32)).messages).toEqual([]);
  await waitFor(async () => (await consumer.maxOffset(q)) > start, 10_000, 'the delayed message');
  const [delivered] = (await consumer.pull(q, start, 32)).messages;
  expect(delivered.body.toString()).toBe('later');
  expect(delivered.storeTimestamp - sentAt).toBeGreaterThanOrEqual(900);
}, 30_000);

test('a topic the name server does not know is created from TBW102 on first send', async () => {
  const result = await producer.send({ topic: 'AutoCreatedTopic', body: 'first' });
  expect(result.sendStatus).toBe('SEND_OK');
  expect(result.messageQueue.queueId).toBeLessThan(4);
});

test('invalid messages are refused before anything is sent', async () => {
  await expect(producer.send({ topic: 'bad topic!', body: 'x' })).rejects.toThrow(/invalid topic/);
  await expect(producer.send({ topic, body: '' })).rejects.toThrow(/empty/);
  await expect(
    producer.sendBatch([
      { topic, body: 'a' },
      { topic: 'Other', body: 'b' },
    ]),
  ).rejects.toThrow(/same topic/);
});
