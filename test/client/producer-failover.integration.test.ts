import { Producer } from '../../client/producer';
import { startBroker, type RunningBroker, waitFor } from '../broker/support';
import { removeDir } from '../support/processes';
import { silent, startCluster, type TestCluster } from './cluster';

let cluster: TestCluster;
let brokerB: RunningBroker;

beforeAll(async () => {
  cluster = await startCluster();
  brokerB = await startBroker(cluster.namesrv.addr, { brokerName: 'broker-b' });
  for (const addr of [cluster.broker.addr, brokerB.addr]) {
    await cluster.admin.createTopic(addr, {
      topic: 'FailoverTopic',
      readQueueNums: 2,
      writeQueueNums: 2,
    });
  }
  await waitFor(
    () =>
      cluster.admin.topicRoute('FailoverTopic').then(
        (route) => route.brokerDatas.length === 2,
        () => false,
      ),
    10_000,
    'both brokers to route the topic',
  );
});

afterAll(async () => {
  await brokerB?.kill();
  if (brokerB) removeDir(brokerB.dataDir);
  await cluster?.stop();
});

test('sends retry on another broker when one dies; fault tolerance then avoids it', async () => {
  const options = { namesrvAddr: cluster.namesrv.addr, logger: silent };
  const plain = new Producer({ ...options, producerGroup: 'failover-plain' });
  const tolerant = new Producer({
    ...options,
    producerGroup: 'failover-tolerant',
    sendLatencyFaultEnable: true,
  });
  await plain.start();
  await tolerant.start();
  try {
    const before = await plain.send({ topic: 'FailoverTopic', body: 'warm-up' });
    expect(before.sendStatus).toBe('SEND_OK');
    // The name server keeps routing broker-b until its registration expires (120 s).
    await brokerB.kill();
    for (const producer of [plain, tolerant]) {
      const brokers = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const result = await producer.send({ topic: 'FailoverTopic', body: `after-${i}` });
        expect(result.sendStatus).toBe('SEND_OK');
        brokers.add(result.messageQueue.brokerName);
      }
      expect(brokers).toEqual(new Set(['broker-a']));
    }
  } finally {
    await plain.shutdown();
    await tolerant.shutdown();
  }
}, 60_000);
