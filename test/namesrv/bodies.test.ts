import { deflateSync } from 'node:zlib';
import { decodeRegisterBrokerBody } from '../../common/protocol/bodies';
import { RemotingError } from '../../common/protocol/errors';

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function chunk(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([int32(bytes.length), bytes]);
}

describe('RegisterBrokerBody', () => {
  it('decodes the compressed form a Java broker sends with compressedRegister', () => {
    const raw = Buffer.concat([
      chunk('{"counter":3,"timestamp":1700000000000}'),
      int32(2),
      chunk('TopicTest 4 4 6 SINGLE_TAG'),
      chunk('TBW102 8 8 7 MULTI_TAG'),
      chunk('[]'),
    ]);
    const body = decodeRegisterBrokerBody(deflateSync(raw, { level: 9 }), true);
    expect(body.topicConfigSerializeWrapper.dataVersion).toEqual({
      counter: 3,
      timestamp: 1700000000000,
    });
    expect(body.topicConfigSerializeWrapper.topicConfigTable.TBW102).toEqual({
      order: false,
      perm: 7,
      readQueueNums: 8,
      topicFilterType: 'MULTI_TAG',
      topicName: 'TBW102',
      topicSysFlag: 0,
      writeQueueNums: 8,
    });
  });

  it('decodes the JSON form with fastjson quirks', () => {
    const json =
      '{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":1,"timestamp":5},' +
      '"topicConfigTable":{"T":{"order":false,"perm":6,"readQueueNums":2,"topicFilterType":"SINGLE_TAG","topicName":"T","topicSysFlag":0,"writeQueueNums":2}}}}';
    expect(
      decodeRegisterBrokerBody(Buffer.from(json), false).topicConfigSerializeWrapper
        .topicConfigTable.T.writeQueueNums,
    ).toBe(2);
  });

  it('refuses malformed bodies with SYSTEM_ERROR and a reason', () => {
    const bad = (body: Buffer, compressed: boolean) => () =>
      decodeRegisterBrokerBody(body, compressed);
    expect(bad(Buffer.from('not json'), false)).toThrow(RemotingError);
    expect(
      bad(
        Buffer.from(
          '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"readQueueNums":"x"}}}}',
        ),
        false,
      ),
    ).toThrow(/readQueueNums is not a number/);
    expect(bad(Buffer.from('garbage'), true)).toThrow(/does not inflate/);
    expect(bad(deflateSync(Buffer.concat([chunk('{}'), int32(5)])), true)).toThrow(/truncated/);
  });
});
