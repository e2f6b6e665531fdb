import {
  buildSubscriptionData,
  decodeCheckClientRequestBody,
  decodeConsumeStats,
  decodeHeartbeatData,
  decodeLockBatchRequestBody,
  decodeResetOffsetBody,
  decodeTopicStatsTable,
  encodeConsumeStats,
  encodeResetOffsetBody,
  encodeTopicStatsTable,
  parseFastjson,
} from '../../common/protocol/broker-bodies';
import { RemotingError } from '../../common/protocol/errors';

const json = (v: string) => Buffer.from(v, 'utf8');

describe('broker bodies', () => {
  it('decodes the three clients’ heartbeats (remoting.md §5.3)', () => {
    const ons = decodeHeartbeatData(
      json(
        '{"clientID":"10.0.0.5@4711","consumerDataSet":[{"groupName":"cg","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[{"topic":"TopicTest","subString":"TagA","classFilterMode":false,"tagsSet":["TagA"],"codeSet":[2598919],"subVersion":1700000000000}],"unitMode":false}],"producerDataSet":[]}',
      ),
    );
    expect(ons.clientID).toBe('10.0.0.5@4711');
    expect(ons.consumerDataSet[0].subscriptionDataSet[0]).toEqual({
      classFilterMode: false,
      codeSet: [2598919],
      expressionType: 'TAG',
      subString: 'TagA',
      subVersion: 1700000000000,
      tagsSet: ['TagA'],
      topic: 'TopicTest',
    });
    const go = decodeHeartbeatData(
      json(
        '{"clientID":"10.0.0.5@4711","producerDataSet":[{"groupName":"pg"}],"consumerDataSet":[{"groupName":"cg","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[{"classFilterMode":false,"topic":"TopicTest","subString":"*","tagsSet":[],"codeSet":[],"subVersion":1700000000123456789,"expressionType":"TAG"}],"unitMode":false}]}',
      ),
    );
    expect(go.producerDataSet).toEqual([{ groupName: 'pg' }]);
    expect(go.consumerDataSet[0].subscriptionDataSet[0].subVersion).toBeGreaterThan(2 ** 53);
  });

  it('rejects malformed heartbeats with SYSTEM_ERROR naming the field', () => {
    expect(() => decodeHeartbeatData(json('{"consumerDataSet":[]}'))).toThrow(/clientID/);
    expect(() =>
      decodeHeartbeatData(json('{"clientID":"c","consumerDataSet":[{"groupName":1}]}')),
    ).toThrow(RemotingError);
    expect(() => decodeHeartbeatData(json('not json'))).toThrow(/not JSON/);
    expect(() => decodeHeartbeatData(undefined)).toThrow(/missing/);
  });

  it('builds tag subscriptions as FilterAPI does', () => {
    expect(buildSubscriptionData('T', ' TagA || TagB ||| ', 5)).toMatchObject({
      subString: 'TagA || TagB ||| '.trim(),
      tagsSet: ['TagA', 'TagB', '|'],
      subVersion: 5,
    });
    expect(buildSubscriptionData('T', 'TagA').codeSet).toEqual([2598919]);
    expect(buildSubscriptionData('T', '')).toMatchObject({ subString: '*', codeSet: [] });
    expect(buildSubscriptionData('T', undefined).subString).toBe('*');
  });

  it('decodes lock and check-client bodies', () => {
    const lock = decodeLockBatchRequestBody(
      json(
        '{"consumerGroup":"cg","clientId":"c1","mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"T"}]}',
      ),
    );
    expect(lock.mqSet).toEqual([{ brokerName: 'broker-a', queueId: 0, topic: 'T' }]);
    expect(() =>
      decodeLockBatchRequestBody(json('{"consumerGroup":"cg","clientId":"c1","mqSet":[{}]}')),
    ).toThrow(/mqSet\[0\]\.brokerName/);
    const check = decodeCheckClientRequestBody(
      json(
        '{"clientId":"c","group":"g","subscriptionData":{"topic":"T","subString":"a > 1","expressionType":"SQL92"}}',
      ),
    );
    expect(check.subscriptionData.expressionType).toBe('SQL92');
  });

  it('writes MessageQueue-keyed maps in fastjson form and reads them back', () => {
    const mq = { brokerName: 'broker-a', queueId: 0, topic: 'T' };
    const stats = encodeConsumeStats({
      consumeTps: 0,
      offsetTable: new Map([[mq, { brokerOffset: 120, consumerOffset: 118, lastTimestamp: 5 }]]),
    });
    expect(stats.toString()).toBe(
      '{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":120,"consumerOffset":118,"lastTimestamp":5}}}',
    );
    expect([...decodeConsumeStats(stats).offsetTable]).toEqual([
      [mq, { brokerOffset: 120, consumerOffset: 118, lastTimestamp: 5 }],
    ]);
    const topicStats = encodeTopicStatsTable({
      offsetTable: new Map([[mq, { lastUpdateTimestamp: 1, maxOffset: 9, minOffset: 0 }]]),
    });
    expect([...decodeTopicStatsTable(topicStats).offsetTable]).toEqual([
      [mq, { lastUpdateTimestamp: 1, maxOffset: 9, minOffset: 0 }],
    ]);
    const reset = encodeResetOffsetBody({ offsetTable: new Map([[mq, 15]]) });
    expect([...decodeResetOffsetBody(reset).offsetTable.values()]).toEqual([15]);
    expect(parseFastjson('{"brokerAddrs":{0:"a:1"}}')).toEqual({ brokerAddrs: { '0': 'a:1' } });
    expect(() => decodeConsumeStats(json('{"offsetTable":{{"x":1}:'))).toThrow(RemotingError);
  });
});
