import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PushConsumer } from '../../client/push-consumer';
import { waitFor } from '../broker/support';
import { silent, startCluster, type TestCluster } from '../client/cluster';
import { CLI } from '../support/processes';

const run = promisify(execFile);
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

/** Runs `rocketmq-ts admin <args> -n <namesrv>` and returns its stdout. */
async function admin(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'admin', ...args, '-n', cluster.namesrv.addr],
    {
      env: { ...process.env, LOG_LEVEL: 'silent' },
    },
  );
  return stdout;
}

/** The rows of a table printed by formatTable, as arrays of cells. */
const rows = (table: string): string[][] =>
  table
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s{2,}/));

test('updateTopic, topicList, topicRoute, topicStatus, deleteTopic', async () => {
  const created = await admin(
    'updateTopic',
    '-t',
    'CliTopic',
    '-b',
    cluster.broker.addr,
    '-r',
    '2',
    '-w',
    '2',
  );
  expect(created).toContain(`create topic to ${cluster.broker.addr} success.`);
  expect(created).toContain(
    'TopicConfig [topicName=CliTopic, readQueueNums=2, writeQueueNums=2, perm=6',
  );
  await waitFor(
    async () => (await admin('topicList')).split('\n').includes('CliTopic'),
    10_000,
    'topic listed',
  );
  const route = JSON.parse(await admin('topicRoute', '-t', 'CliTopic')) as {
    queueDatas: { readQueueNums: number }[];
  };
  expect(route.queueDatas[0].readQueueNums).toBe(2);
  const status = rows(await admin('topicStatus', '-t', 'CliTopic'));
  expect(status.map((r) => r.slice(0, 4))).toEqual([
    ['broker-a', '0', '0', '0'],
    ['broker-a', '1', '0', '0'],
  ]);
  const deleted = await admin('deleteTopic', '-t', 'CliTopic', '-c', 'DefaultCluster');
  expect(deleted).toContain('delete topic [CliTopic] from cluster [DefaultCluster] success.');
  await expect(admin('topicRoute', '-t', 'CliTopic')).rejects.toThrow(/No topic route info/);
}, 60_000);

test('clusterList and brokerStatus show the broker', async () => {
  const clusters = rows(await admin('clusterList'));
  expect(clusters).toHaveLength(1);
  expect(clusters[0].slice(0, 4)).toEqual(['DefaultCluster', 'broker-a', '0', cluster.broker.addr]);
  const status = await admin('brokerStatus', '-b', cluster.broker.addr);
  expect(status).toMatch(/^brokerVersionDesc\s+: /m);
}, 30_000);

test('sendMessage and consumeMessage', async () => {
  await cluster.createTopic('CliMessages', 1);
  const sent = rows(
    await admin(
      'sendMessage',
      '-t',
      'CliMessages',
      '-p',
      'hello from the cli',
      '-c',
      'TagX',
      '-k',
      'cli-key',
    ),
  );
  expect(sent[0].slice(0, 3)).toEqual(['broker-a', '0', 'SEND_OK']);
  const consumed = rows(await admin('consumeMessage', '-t', 'CliMessages', '-c', '10'));
  expect(consumed).toHaveLength(1);
  expect(consumed[0]).toEqual(['broker-a', '0', '0', sent[0][3], 'TagX', 'hello from the cli']);
}, 30_000);

test('queryMsgByKey and queryMsgById find a sent message', async () => {
  await cluster.createTopic('CliQuery', 2);
  const sent = rows(
    await admin('sendMessage', '-t', 'CliQuery', '-p', 'find me', '-k', 'query-key other-key'),
  );
  const byKey = rows(await admin('queryMsgByKey', '-t', 'CliQuery', '-k', 'query-key'));
  expect(byKey).toEqual([[sent[0][3], sent[0][1], '0']]);
  const consumed = await cluster.admin.queryMessageByKey('CliQuery', 'other-key');
  expect(consumed).toHaveLength(1);
  const described = await admin('queryMsgById', '-i', consumed[0].offsetMsgId);
  expect(described).toMatch(/^Topic:\s+CliQuery$/m);
  expect(described).toMatch(/^Keys:\s+\[query-key other-key\]$/m);
  expect(described).toMatch(/^Message Body:\s+find me$/m);
}, 30_000);

test('consumerProgress and consumerConnection of a live group', async () => {
  await cluster.createTopic('CliProgress', 2);
  const consumer = new PushConsumer({
    namesrvAddr: cluster.namesrv.addr,
    consumerGroup: 'cli-group',
    logger: silent,
    persistConsumerOffsetIntervalMs: 500,
  });
  consumer.subscribe('CliProgress', 'TagA || TagB');
  consumer.listenConcurrently(() => 'CONSUME_SUCCESS');
  await consumer.start();
  try {
    const connection = await admin('consumerConnection', '-g', 'cli-group');
    expect(connection).toContain(consumer.clientId);
    expect(connection).toMatch(/CliProgress\s+TagA \|\| TagB/);
    expect(connection).toContain('MessageModel: CLUSTERING');
    await waitFor(
      async () => (await admin('consumerProgress', '-g', 'cli-group')).includes('CliProgress'),
      10_000,
      'offsets committed',
    );
    const progress = await admin('consumerProgress', '-g', 'cli-group', '-t', 'CliProgress');
    expect(rows(progress.split('\n\n')[0]).map((r) => r.slice(0, 3))).toEqual([
      ['CliProgress', 'broker-a', '0'],
      ['CliProgress', 'broker-a', '1'],
    ]);
    expect(progress).toContain('Diff Total: 0');
  } finally {
    await consumer.shutdown();
  }
}, 30_000);

test('a missing option is a usage error naming it', async () => {
  await expect(admin('topicStatus')).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining('missing -t <topic>'),
  });
}, 30_000);
