import type { TopicConfig } from '../../common/protocol/bodies';
import { isUserTopic, topicsForNewGroup } from '../../operator/scaling/group-topics';
import { clusterWith } from './fixtures';

/** Which topics a new broker group gets: pure. */

const topic = (topicName: string, queues = 4): TopicConfig => ({
  topicName,
  readQueueNums: queues,
  writeQueueNums: queues,
  perm: 6,
  order: false,
  topicFilterType: 'SINGLE_TAG',
  topicSysFlag: 0,
});
const cluster = clusterWith({ broker: { groups: 3 } });
const system = [
  'TBW102',
  'SELF_TEST_TOPIC',
  'BenchmarkTest',
  'demo',
  'demo_REPLY_TOPIC',
  'broker-0',
];

test('system, retry, DLQ, cluster and group topics are not user topics', () => {
  for (const t of [
    ...system,
    '%RETRY%g',
    '%DLQ%g',
    'RMQ_SYS_TRANS_HALF_TOPIC',
    'rmq_sys_x',
    'SCHEDULE_TOPIC_XXXX',
  ]) {
    expect([t, isUserTopic(cluster, t, ['broker-0', 'broker-1', 'broker-2'])]).toEqual([t, false]);
  }
  expect(isUserTopic(cluster, 'Orders', ['broker-0'])).toBe(true);
});

test('a group with only system topics gets the union of the others’ user topics, first settings winning', () => {
  const fresh = system.map((t) => topic(t));
  const copy = topicsForNewGroup(cluster, fresh, [
    [...system.map((t) => topic(t)), topic('Orders', 8), topic('%RETRY%g')],
    [topic('Orders', 2), topic('Payments')],
  ]);
  expect(copy.map((t) => [t.topicName, t.readQueueNums])).toEqual([
    ['Orders', 8],
    ['Payments', 4],
  ]);
});

test('a group that already has a user topic is left alone', () => {
  expect(topicsForNewGroup(cluster, [topic('Mine')], [[topic('Orders')]])).toEqual([]);
});
