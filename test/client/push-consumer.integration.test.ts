import type { MessageExt } from '../../client/message';
import { Producer } from '../../client/producer';
import { PushConsumer, type PushConsumerOptions } from '../../client/push-consumer';
import { selectByHash } from '../../client/queue-selector';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir } from '../support/processes';
import { sleep, waitFor } from '../broker/support';
import { silent, startCluster, type TestCluster } from './cluster';

let cluster: TestCluster;
let producer: Producer;

beforeAll(async () => {
  cluster = await startCluster();
  producer = new Producer({
    namesrvAddr: cluster.namesrv.addr,
    producerGroup: 'test-producer',
    logger: silent,
  });
  await producer.start();
});

afterAll(async () => {
  await producer?.shutdown();
  await cluster?.stop();
});

function consumerOptions(group: string): PushConsumerOptions {
  return {
    namesrvAddr: cluster.namesrv.addr,
    consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger: silent,
    // Short intervals so that membership changes settle within the test.
    rebalanceIntervalMs: 1000,
    persistConsumerOffsetIntervalMs: 1000,
    lockIntervalMs: 1000,
  };
}

/** Sends `count` messages built by `make`, at most 200 in flight. */
async function sendAll(
  count: number,
  make: (i: number) => Parameters<Producer['send']>,
): Promise<void> {
  for (let start = 0; start < count; start += 200) {
    const sends = [];
    for (let i = start; i < Math.min(count, start + 200); i++)
      sends.push(producer.send(...make(i)));
    await Promise.all(sends);
  }
}

test('three clustering consumers share 10,000 messages; tags filter; duplicates only around rebalances', async () => {
  const topic = 'PushTopic';
  const group = 'push-group';
  await cluster.createTopic(topic, 8);
  const seen = new Map<string, number>();
  const perConsumer = [0, 0, 0];
  const consumers = [0, 1, 2].map((n) => {
    const c = new PushConsumer({ ...consumerOptions(group), consumeMessageBatchMaxSize: 1 + n });
    c.subscribe(topic, 'TagA || TagB');
    c.listenConcurrently((msgs: MessageExt[]) => {
      for (const m of msgs) {
        const body = m.body.toString();
        if (m.tags !== 'TagA' && m.tags !== 'TagB') throw new Error(`unexpected tag ${m.tags}`);
        if (m.keys !== `key-${body}`) throw new Error(`unexpected keys ${m.keys}`);
        seen.set(body, (seen.get(body) ?? 0) + 1);
      }
      perConsumer[n] += msgs.length;
      return 'CONSUME_SUCCESS';
    });
    return c;
  });
  await consumers[0].start();
  const total = 10_000;
  // Every 21st message has a tag nobody subscribed: 500 of 10,500.
  const isFiltered = (i: number) => i % 21 === 20;
  const wanted = new Set<string>();
  // Members join while messages flow, so queues change hands mid-stream.
  const sending = sendAll(total + total / 20, (i) => {
    if (!isFiltered(i)) wanted.add(String(i));
    return [
      {
        topic,
        body: String(i),
        tags: isFiltered(i) ? 'TagC' : i % 2 ? 'TagA' : 'TagB',
        keys: `key-${i}`,
      },
    ];
  });
  await sleep(200);
  await consumers[1].start();
  await sleep(200);
  await consumers[2].start();
  await sending;
  await waitFor(() => seen.size === total, 60_000, 'all 10,000 messages');
  await waitFor(
    () => consumers.every((c) => c.assignedQueues().length > 0),
    10_000,
    'every member to own queues',
  );
  const owned = consumers.flatMap((c) => c.assignedQueues().filter((q) => q.topic === topic));
  expect(owned).toHaveLength(8);
  // Committed offsets pass the filtered-out TagC messages too.
  const lag = async () => {
    const stats = await cluster.admin.consumeStats(group, topic);
    let sum = 0;
    for (const o of stats.offsetTable.values()) sum += o.brokerOffset - o.consumerOffset;
    return stats.offsetTable.size === 8 ? sum : -1;
  };
  await waitFor(async () => (await lag()) === 0, 20_000, 'consumer lag 0');
  await Promise.all(consumers.map((c) => c.shutdown()));
  expect(await lag()).toBe(0);

  const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
  expect(wanted.size).toBe(total);
  expect([...seen.keys()].filter((body) => !wanted.has(body))).toEqual([]);
  expect(perConsumer.every((n) => n > 0)).toBe(true);
  // At-least-once: only messages in flight when a queue changed hands come twice.
  expect({ duplicates, ok: duplicates < total / 10 }).toMatchObject({ ok: true });
}, 120_000);

test('orderly consumption keeps each sharding key in order while a consumer joins and leaves', async () => {
  const topic = 'OrderTopic';
  const group = 'order-group';
  await cluster.createTopic(topic, 4);
  const keys = Array.from({ length: 20 }, (_, i) => `order-${i}`);
  const rounds = 100;
  const last = new Map<string, number>();
  const violations: string[] = [];
  let received = 0;
  let redelivered = 0;
  const perConsumer = [0, 0];
  const makeConsumer = (n: number) => {
    const c = new PushConsumer({ ...consumerOptions(group), consumeMessageBatchMaxSize: 3 });
    c.subscribe(topic, '*');
    c.listenOrderly(async (msgs) => {
      for (const m of msgs) {
        const [key, seqText] = m.body.toString().split(':');
        const seq = Number(seqText);
        const prev = last.get(key) ?? -1;
        // A queue handed over mid-batch is re-delivered from its committed offset: a repeat of
        // what was seen is allowed, skipping ahead or going out of order is not.
        if (seq > prev + 1) violations.push(`${key}: ${seq} after ${prev}`);
        if (seq <= prev) redelivered++;
        else last.set(key, seq);
        received++;
      }
      perConsumer[n] += msgs.length;
      await sleep(2);
      return 'SUCCESS' as const;
    });
    return c;
  };
  const first = makeConsumer(0);
  const second = makeConsumer(1);
  await first.start();
  for (let seq = 0; seq < rounds; seq++) {
    // One message per key per round, each round stored before the next: per-key send order.
    await Promise.all(
      keys.map((key) =>
        producer.send(
          { topic, body: `${key}:${seq}`, keys: key },
          { selector: selectByHash, arg: key },
        ),
      ),
    );
    if (seq === 30) await second.start();
    if (seq === 60) await first.shutdown();
    await sleep(10);
  }
  await waitFor(
    () => keys.every((key) => last.get(key) === rounds - 1),
    60_000,
    'every key consumed to the end',
  );
  await second.shutdown();
  expect(violations).toEqual([]);
  expect(received - redelivered).toBe(keys.length * rounds);
  // Both took part: the second got queues when it joined and all of them when the first left.
  expect(perConsumer[0]).toBeGreaterThan(0);
  expect(perConsumer[1]).toBeGreaterThan(0);
  expect(redelivered).toBeLessThan(keys.length * rounds * 0.1);
}, 120_000);

test('a message the listener rejects comes back through the retry topic', async () => {
  const topic = 'RetryTopic';
  await cluster.createTopic(topic, 2);
  const deliveries: { body: string; topic: string; reconsumeTimes: number }[] = [];
  const consumer = new PushConsumer(consumerOptions('retry-group'));
  consumer.subscribe(topic, '*');
  consumer.listenConcurrently((msgs, context) => {
    for (const m of msgs) {
      deliveries.push({
        body: m.body.toString(),
        topic: m.topic,
        reconsumeTimes: m.reconsumeTimes,
      });
    }
    context.delayLevelWhenNextConsume = 1;
    return msgs[0].reconsumeTimes === 0 ? 'RECONSUME_LATER' : 'CONSUME_SUCCESS';
  });
  await consumer.start();
  try {
    await producer.send({ topic, body: 'try again', tags: 'T' });
    await waitFor(() => deliveries.length >= 2, 40_000, 'the re-delivery');
    expect(deliveries.slice(0, 2)).toEqual([
      { body: 'try again', topic, reconsumeTimes: 0 },
      { body: 'try again', topic, reconsumeTimes: 1 },
    ]);
  } finally {
    await consumer.shutdown();
  }
}, 60_000);

test('broadcasting: every member gets every message and keeps its offsets in a local file', async () => {
  const topic = 'BroadcastTopic';
  await cluster.createTopic(topic, 4);
  const offsetDir = mkdtempSync(join(tmpdir(), 'rmqts-offsets-'));
  const received = [new Set<string>(), new Set<string>()];
  const consumers = received.map((seen, n) => {
    const c = new PushConsumer({
      ...consumerOptions('broadcast-group'),
      messageModel: 'BROADCASTING',
      localOffsetStoreDir: offsetDir,
      instanceName: `member-${n}`,
    });
    c.subscribe(topic, '*');
    c.listenConcurrently((msgs) => {
      for (const m of msgs) seen.add(m.body.toString());
      return 'CONSUME_SUCCESS';
    });
    return c;
  });
  try {
    await Promise.all(consumers.map((c) => c.start()));
    expect(consumers.map((c) => c.assignedQueues().length)).toEqual([4, 4]);
    await sendAll(200, (i) => [{ topic, body: String(i) }]);
    await waitFor(() => received.every((seen) => seen.size === 200), 20_000, 'both members');
  } finally {
    await Promise.all(consumers.map((c) => c.shutdown()));
  }
  // One offsets file per member, under <dir>/<clientId>/<group>/offsets.json.
  expect(readdirSync(offsetDir)).toHaveLength(2);
  removeDir(offsetDir);
}, 60_000);

test('a consumer started before its topic exists picks the topic up once it is created', async () => {
  const topic = 'LateTopic';
  const seen: string[] = [];
  const consumer = new PushConsumer(consumerOptions('late-group'));
  consumer.subscribe(topic, '*');
  consumer.listenConcurrently((msgs) => {
    seen.push(...msgs.map((m) => m.body.toString()));
    return 'CONSUME_SUCCESS';
  });
  await consumer.start();
  try {
    const owned = () => consumer.assignedQueues().filter((q) => q.topic === topic);
    expect(owned()).toEqual([]);
    await cluster.createTopic(topic, 2);
    await waitFor(() => owned().length === 2, 10_000, 'queues assigned');
    await producer.send({ topic, body: 'late' });
    await waitFor(() => seen.includes('late'), 10_000, 'the message');
  } finally {
    await consumer.shutdown();
  }
}, 30_000);
