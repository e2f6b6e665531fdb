import { capQueueNums, publishQueues, subscribeQueues } from '../../client/route';
import type { TopicRouteData } from '../../common/protocol/bodies';

const broker = (brokerName: string, addrs: Record<string, string>) => ({
  brokerAddrs: addrs,
  brokerName,
  cluster: 'C',
});
const queueData = (brokerName: string, read: number, write: number, perm = 6) => ({
  brokerName,
  perm,
  readQueueNums: read,
  topicSysFlag: 0,
  writeQueueNums: write,
});
const ids = (qs: { brokerName: string; queueId: number }[]) =>
  qs.map((q) => `${q.brokerName}:${q.queueId}`);

const route: TopicRouteData = {
  brokerDatas: [
    broker('b', { 0: '10.0.0.2:10911' }),
    broker('a', { 0: '10.0.0.1:10911', 1: '10.0.0.9:10911' }),
    broker('slave-only', { 1: '10.0.0.3:10911' }),
    broker('read-only', { 0: '10.0.0.4:10911' }),
  ],
  filterServerTable: {},
  queueDatas: [
    queueData('b', 2, 3),
    queueData('a', 2, 2),
    queueData('slave-only', 1, 1),
    queueData('read-only', 1, 1, 4),
  ],
};

describe('route to queues', () => {
  test('publish: writable queues of brokers with a master, sorted by broker name', () => {
    expect(ids(publishQueues('T', route))).toEqual(['a:0', 'a:1', 'b:0', 'b:1', 'b:2']);
  });

  test('subscribe: readable queues of every broker, sorted', () => {
    expect(ids(subscribeQueues('T', route))).toEqual([
      'a:0',
      'a:1',
      'b:0',
      'b:1',
      'read-only:0',
      'slave-only:0',
    ]);
  });

  test('an ordered topic lists its publish queues in orderTopicConf', () => {
    const ordered = { ...route, orderTopicConf: 'b:2;a:1' };
    expect(ids(publishQueues('T', ordered))).toEqual(['b:0', 'b:1', 'a:0']);
  });

  test('a write-only topic has no subscribe queues', () => {
    const writeOnly = { ...route, queueDatas: [queueData('a', 4, 4, 2)] };
    expect(subscribeQueues('T', writeOnly)).toEqual([]);
    expect(publishQueues('T', writeOnly)).toHaveLength(4);
  });

  test('the TBW102 route is capped at defaultTopicQueueNums', () => {
    const template = { ...route, queueDatas: [queueData('a', 8, 8, 7)] };
    const queues = publishQueues('NewTopic', capQueueNums(template, 4));
    expect(ids(queues)).toEqual(['a:0', 'a:1', 'a:2', 'a:3']);
    expect(queues.every((q) => q.topic === 'NewTopic')).toBe(true);
  });
});
