/**
 * Rewinding and skipping a consumer group with `admin resetOffsetByTime` against a real name
 * server and broker: an online group's consumers pick up the new offsets, an offline group
 * starts from them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MessageExt } from '../../client/message';
import { Producer } from '../../client/producer';
import { PushConsumer } from '../../client/push-consumer';
import { parseResetTime, resetOffsetByTime, RESET_TO_LATEST } from '../../client/reset-offset';
import { sleep, waitFor } from '../broker/support';
import { CLI } from '../support/processes';
import { silent, startCluster, type TestCluster } from './cluster';

const TOPIC = 'ResetTopic';
let cluster: TestCluster;
let producer: Producer;
/** Stored before `boundary`: never consumed again after a rewind to it. */
const early: string[] = [];
/** Stored after `boundary`. */
const late: string[] = [];
let boundary = 0;

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.createTopic(TOPIC, 4);
  producer = new Producer({
    namesrvAddr: cluster.namesrv.addr,
    producerGroup: 'reset-producer',
    logger: silent,
  });
  await producer.start();
  for (let i = 0; i < 40; i++) {
    early.push(`early-${i}`);
    await producer.send({ topic: TOPIC, body: `early-${i}` });
  }
  await sleep(50);
  boundary = Date.now();
  await sleep(50);
  for (let i = 0; i < 40; i++) {
    late.push(`late-${i}`);
    await producer.send({ topic: TOPIC, body: `late-${i}` });
  }
});

afterAll(async () => {
  await producer?.shutdown();
  await cluster?.stop();
});

/** A consumer of TOPIC recording every body it receives. */
async function startConsumer(group: string, seen: string[]): Promise<PushConsumer> {
  const consumer = new PushConsumer({
    namesrvAddr: cluster.namesrv.addr,
    consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    logger: silent,
    rebalanceIntervalMs: 1000,
    persistConsumerOffsetIntervalMs: 500,
  });
  consumer.subscribe(TOPIC, '*');
  consumer.listenConcurrently((msgs: MessageExt[]) => {
    for (const m of msgs) seen.push(m.body.toString());
    return 'CONSUME_SUCCESS';
  });
  await consumer.start();
  return consumer;
}

const sorted = (list: readonly string[]) => [...list].sort();

test('an online group rewound to a time consumes again what was stored since, and only that', async () => {
  const seen: string[] = [];
  const consumer = await startConsumer('reset-online', seen);
  try {
    await waitFor(() => seen.length >= 80, 20_000, 'first pass');
    await sleep(300);
    expect(sorted(seen)).toEqual(sorted([...early, ...late]));
    seen.length = 0;
    const offsets = await resetOffsetByTime(cluster.admin, {
      group: 'reset-online',
      topic: TOPIC,
      timestamp: boundary,
    });
    expect(offsets).toHaveLength(4);
    await waitFor(() => seen.length >= late.length, 20_000, 'second pass');
    await sleep(500);
    expect(sorted(seen)).toEqual(sorted(late));
  } finally {
    await consumer.shutdown();
  }
});

test('an offline group is rewound and skipped through the admin CLI', async () => {
  const group = 'reset-offline';
  const first: string[] = [];
  const consumer = await startConsumer(group, first);
  await waitFor(() => first.length >= 80, 20_000, 'first pass');
  await consumer.shutdown();

  const admin = (verb: string, ...args: string[]) =>
    promisify(execFile)(process.execPath, [
      CLI,
      'admin',
      verb,
      '-n',
      cluster.namesrv.addr,
      '-g',
      group,
      '-t',
      TOPIC,
      ...args,
    ]);
  const run = (s: string) => admin('resetOffsetByTime', '-s', s);
  const { stdout } = await run(String(boundary));
  expect(stdout).toMatch(/#brokerName\s+#queueId\s+#offset/);
  const again: string[] = [];
  const second = await startConsumer(group, again);
  await waitFor(() => again.length >= late.length, 20_000, 'replay');
  await second.shutdown();
  expect(sorted(again)).toEqual(sorted(late));

  // Skip everything accumulated: nothing old comes back, a new message does.
  const earliest = (await run('earliest')).stdout.trim().split('\n').slice(1);
  expect(earliest.map((row) => row.trim().split(/\s+/)[2])).toEqual(['0', '0', '0', '0']);
  await admin('skipAccumulatedMessage');
  const after: string[] = [];
  const third = await startConsumer(group, after);
  await producer.send({ topic: TOPIC, body: 'after-skip' });
  await waitFor(() => after.length >= 1, 20_000, 'new message');
  await sleep(500);
  await third.shutdown();
  expect(after).toEqual(['after-skip']);
});

test('reset times: keywords, relative, epoch ms and dates', () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  expect(parseResetTime('latest', now)).toBe(RESET_TO_LATEST);
  expect(parseResetTime('earliest', now)).toBe(0);
  expect(parseResetTime('now', now)).toBe(now);
  expect(parseResetTime('-1h', now)).toBe(now - 3_600_000);
  expect(parseResetTime('-30m', now)).toBe(now - 1_800_000);
  expect(parseResetTime('1700000000000', now)).toBe(1_700_000_000_000);
  expect(parseResetTime('2026-01-02T03:04:05.006Z', now)).toBe(now);
  expect(parseResetTime('2026-01-02#03:04:05:006', now)).toBe(
    new Date(2026, 0, 2, 3, 4, 5, 6).getTime(),
  );
  expect(parseResetTime('yesterday', now)).toBeUndefined();
  expect(parseResetTime('-1w', now)).toBeUndefined();
});
