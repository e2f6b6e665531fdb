import {
  compressIfLarge,
  decodeMessages,
  encodeMessageProperties,
  keysString,
  messageProperties,
} from '../../client/message';
import { matchesSubscription } from '../../client/subscription';
import { decodeBatchBody, encodeBatchBody } from '../../common/message/batch';
import { createUniqKey } from '../../common/message/message-id';
import { decodeProperties, encodeProperties } from '../../common/message/properties';
import { encodeRecord } from '../../common/message/record';
import { MessageSysFlag } from '../../common/message/sysflag';
import { buildSubscriptionData } from '../../common/protocol/broker-bodies';

describe('message properties', () => {
  test('tags, keys, delay, user properties, WAIT and UNIQ_KEY', () => {
    const props = messageProperties(
      {
        topic: 'T',
        body: 'x',
        tags: 'TagA',
        keys: ['k1', 'k2'],
        delayTimeLevel: 3,
        properties: { color: 'red' },
      },
      'ID1',
    );
    expect(Object.fromEntries(props)).toEqual({
      color: 'red',
      KEYS: 'k1 k2',
      TAGS: 'TagA',
      DELAY: '3',
      WAIT: 'true',
      UNIQ_KEY: 'ID1',
    });
    expect(messageProperties({ topic: 'T', body: 'x' }, 'ID2', false).has('WAIT')).toBe(false);
    expect(keysString([])).toBeUndefined();
    expect(keysString('a b')).toBe('a b');
  });

  test('a batch round-trips through the batch codec', () => {
    const msgs = Array.from({ length: 5 }, (_, i) => ({
      topic: 'T',
      body: Buffer.from(`body-${i}-${'é'.repeat(i)}`),
      tags: `Tag${i % 2}`,
      keys: `key-${i}`,
      flag: i,
    }));
    const ids = msgs.map(() => createUniqKey());
    const body = encodeBatchBody(
      msgs.map((m, i) => ({
        flag: m.flag,
        body: m.body,
        properties: encodeProperties(messageProperties(m, ids[i], false)),
      })),
    );
    const decoded = decodeBatchBody(body);
    expect(decoded).toHaveLength(5);
    decoded.forEach((entry, i) => {
      expect(entry.flag).toBe(i);
      expect(entry.body.equals(msgs[i].body)).toBe(true);
      const props = decodeProperties(entry.properties);
      expect(props.get('UNIQ_KEY')).toBe(ids[i]);
      expect(props.get('TAGS')).toBe(`Tag${i % 2}`);
      expect(props.get('KEYS')).toBe(`key-${i}`);
    });
  });
});

test('encodeMessageProperties is encodeProperties(messageProperties(...)), with or without a fast path', () => {
  const id = createUniqKey();
  const plain = { topic: 'T', body: Buffer.from('x') };
  const messages = [
    plain,
    { ...plain, tags: 'TagA' },
    { ...plain, keys: ['k1', 'k2'] },
    { ...plain, properties: { a: 'b' } },
    { ...plain, delayTimeLevel: 3 },
  ];
  for (const msg of messages) {
    for (const wait of [true, false]) {
      expect(encodeMessageProperties(msg, id, wait)).toBe(
        encodeProperties(messageProperties(msg, id, wait)),
      );
    }
  }
});

describe('compression and decoding pulled records', () => {
  const host = { ip: '127.0.0.1', port: 10911 };
  const record = (body: Buffer, sysFlag: number, properties: string) =>
    encodeRecord({
      topic: 'T',
      queueId: 1,
      flag: 0,
      queueOffset: 7,
      physicalOffset: 4096,
      sysFlag,
      bornTimestamp: 1,
      bornHost: host,
      storeTimestamp: 2,
      storeHost: host,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body,
      properties,
    });

  test('bodies of 4 KiB and more are zlib-compressed with sysFlag 0x301, and read back', () => {
    const small = Buffer.alloc(4095, 'a');
    expect(compressIfLarge(small)).toEqual({ body: small, sysFlag: 0 });
    const large = Buffer.alloc(100_000, 'abc');
    const { body, sysFlag } = compressIfLarge(large);
    expect(sysFlag).toBe(MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB_TYPE);
    expect(body.length).toBeLessThan(large.length);
    const buf = Buffer.concat([
      record(body, sysFlag, encodeProperties({ UNIQ_KEY: 'U1', TAGS: 'A', KEYS: 'k' })),
      record(Buffer.from('plain'), 0, ''),
    ]);
    const [first, second] = decodeMessages(buf, 'broker-a');
    expect(first.body.equals(large)).toBe(true);
    expect(first.msgId).toBe('U1');
    expect(first.offsetMsgId).toBe('7F00000100002A9F0000000000001000');
    expect(first.tags).toBe('A');
    expect(first.keys).toBe('k');
    expect(first.brokerName).toBe('broker-a');
    expect(second.msgId).toBe(second.offsetMsgId);
    expect(second.body.toString()).toBe('plain');
  });

  test('an LZ4 body is refused with a clear error', () => {
    const buf = record(
      Buffer.from('xx'),
      MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_LZ4_TYPE,
      '',
    );
    expect(() => decodeMessages(buf, 'b')).toThrow(/unsupported type 0x100/);
  });
});

describe('client-side tag check', () => {
  test.each([
    ['*', undefined, true],
    ['*', 'X', true],
    ['TagA || TagB', 'TagA', true],
    ['TagA || TagB', 'TagB', true],
    ['TagA || TagB', 'TagC', false],
    ['TagA || TagB', undefined, false],
    [' TagA ||  ', 'TagA', true],
    ['', 'anything', true],
  ])('"%s" with tag %s → %s', (expression, tags, expected) => {
    expect(matchesSubscription(buildSubscriptionData('T', expression), tags)).toBe(expected);
  });
});
