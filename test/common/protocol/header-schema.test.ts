import {
  defineHeader,
  HeaderError,
  optional,
  required,
} from '../../../common/protocol/header-schema';
import {
  PullMessageRequestHeader,
  QueryMessageRequestHeader,
  SendMessageRequestHeader,
} from '../../../common/protocol/headers';

const Test = defineHeader('TestHeader', {
  name: required.string,
  count: required.int,
  offset: required.long,
  force: required.boolean,
  note: optional.string,
  limit: optional.int,
  since: optional.long,
  flagged: optional.boolean,
});

const minimal = { name: 'n', count: '1', offset: '2', force: 'false' };

describe('header schema: decode', () => {
  it('decodes typed values and leaves absent optional fields out', () => {
    expect(Test.decode({ ...minimal, extra: 'ignored' })).toEqual({
      name: 'n',
      count: 1,
      offset: 2,
      force: false,
    });
    expect(Test.decode({ ...minimal, note: '', limit: '-5', since: '0', flagged: 'true' })).toEqual(
      {
        name: 'n',
        count: 1,
        offset: 2,
        force: false,
        note: '',
        limit: -5,
        since: 0,
        flagged: true,
      },
    );
  });

  it.each(['name', 'count', 'offset', 'force'])(
    'throws HeaderError naming a missing required field %s',
    (field) => {
      const ext: Record<string, string> = { ...minimal };
      delete ext[field];
      expect(() => Test.decode(ext)).toThrow(HeaderError);
      expect(() => Test.decode(ext)).toThrow(field);
    },
  );

  it('throws HeaderError when extFields is absent and a field is required', () => {
    expect(() => Test.decode(undefined)).toThrow(HeaderError);
    expect(defineHeader('Empty', { x: optional.int }).decode(undefined)).toEqual({});
  });

  it.each(['abc', '1.5', '1e3', '0x10', '--1', '2147483648', '-2147483649', '12abc', 'NaN'])(
    'throws HeaderError for the non-int "%s"',
    (raw) => {
      expect(() => Test.decode({ ...minimal, count: raw })).toThrow(HeaderError);
      expect(() => Test.decode({ ...minimal, limit: raw })).toThrow(HeaderError);
    },
  );

  it('reads int32 bounds and signs like Integer.parseInt', () => {
    expect(Test.decode({ ...minimal, count: '2147483647' }).count).toBe(2147483647);
    expect(Test.decode({ ...minimal, count: '-2147483648' }).count).toBe(-2147483648);
    expect(Test.decode({ ...minimal, count: '+7' }).count).toBe(7);
    expect(Test.decode({ ...minimal, count: '007' }).count).toBe(7);
  });

  it('reads every spelling of a number as Number() of its trimmed text would', () => {
    // Plain digit strings take a fast path; the rest the general one: both must agree.
    const spellings = ['0', '-0', '5', '-5', '123456789012345', '-123456789012345'];
    spellings.push('1234567890123456', '+5', ' 5', '5 ', '-', '--5', '5-', '1_0', '٣');
    for (const raw of spellings) {
      const valid = /^\s*[-+]?\d+\s*$/.test(raw);
      const expected = Number(raw.trim()) + 0;
      if (valid) expect(Test.decode({ ...minimal, offset: raw }).offset).toBe(expected);
      else expect(() => Test.decode({ ...minimal, offset: raw })).toThrow(HeaderError);
      if (valid && Math.abs(expected) <= 0x7fffffff) {
        expect(Test.decode({ ...minimal, count: raw }).count).toBe(expected);
      }
    }
  });

  it('treats an empty number as absent: missing when required, skipped when optional', () => {
    expect(() => Test.decode({ ...minimal, count: '' })).toThrow(HeaderError);
    expect(Test.decode({ ...minimal, limit: '', since: '' })).not.toHaveProperty('limit');
  });

  it('parses int64 strings beyond 2^53 as the nearest double', () => {
    const max = Test.decode({ ...minimal, offset: '9223372036854775807' }).offset;
    expect(max).toBe(2 ** 63);
    expect(max).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    const min = Test.decode({ ...minimal, offset: '-9223372036854775808' }).offset;
    expect(min).toBe(-(2 ** 63));
    // Go's nanosecond subVersion.
    const nanos = Test.decode({ ...minimal, offset: '1700000000123456789' }).offset;
    expect(Math.abs(nanos - Number('1700000000123456789'))).toBeLessThanOrEqual(256);
    expect(Test.decode({ ...minimal, offset: '9007199254740993' }).offset).toBeCloseTo(
      9007199254740992,
      -1,
    );
  });

  it.each([
    '9223372036854775808',
    '-9223372036854775809',
    '99999999999999999999999',
    '1.0',
    'x',
    '1e18',
  ])('throws HeaderError for the non-long "%s" (Long.parseLong would too)', (raw) => {
    expect(() => Test.decode({ ...minimal, offset: raw })).toThrow(HeaderError);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['tRuE', true],
    ['false', false],
    ['FALSE', false],
    ['yes', false],
    ['1', false],
    ['on', false],
    [' true', false],
    ['true ', false],
    ['', false],
  ])('parses the boolean "%s" as Boolean.parseBoolean does: %s', (raw, expected) => {
    expect(Test.decode({ ...minimal, force: raw }).force).toBe(expected);
    expect(Test.decode({ ...minimal, flagged: raw }).flagged).toBe(expected);
  });

  it('keeps strings verbatim, including empty and whitespace', () => {
    expect(Test.decode({ ...minimal, name: '' }).name).toBe('');
    expect(Test.decode({ ...minimal, name: ' a b ' }).name).toBe(' a b ');
  });
});

describe('header schema: encode', () => {
  it('writes decimal strings and true/false, skipping absent fields', () => {
    expect(
      Test.encode({ name: 'n', count: -3, offset: 1700000000000, force: true, limit: undefined }),
    ).toEqual({ name: 'n', count: '-3', offset: '1700000000000', force: 'true' });
  });

  it('round-trips int64 extremes as valid Java longs', () => {
    for (const raw of ['9223372036854775807', '-9223372036854775808']) {
      const header = Test.decode({ ...minimal, offset: raw });
      expect(Test.encode(header).offset).toBe(raw);
    }
  });

  it('never writes exponent notation or a long outside int64 for a long', () => {
    expect(Test.encode({ name: 'n', count: 0, offset: 1e21, force: false }).offset).toBe(
      '9223372036854775807',
    );
    expect(Test.encode({ name: 'n', count: 0, offset: 2 ** 62, force: false }).offset).toBe(
      '4611686018427387904',
    );
  });

  it('refuses to encode a fractional or out-of-range int', () => {
    expect(() => Test.encode({ name: 'n', count: 1.5, offset: 0, force: false })).toThrow(
      RangeError,
    );
    expect(() => Test.encode({ name: 'n', count: 2 ** 31, offset: 0, force: false })).toThrow(
      RangeError,
    );
    expect(() => Test.encode({ name: 'n', count: 0, offset: Number.NaN, force: false })).toThrow(
      RangeError,
    );
  });
});

describe('SendMessageRequestHeader V2 short names', () => {
  const header = {
    producerGroup: 'PG',
    topic: 'TopicTest',
    defaultTopic: 'TBW102',
    defaultTopicQueueNums: 4,
    queueId: 1,
    sysFlag: 0,
    bornTimestamp: 1700000000000,
    flag: 0,
    properties: 'KEYS\u0001k1\u0002',
    reconsumeTimes: 0,
    unitMode: false,
    batch: false,
    bname: 'broker-a',
  };
  const short = {
    a: 'PG',
    b: 'TopicTest',
    c: 'TBW102',
    d: '4',
    e: '1',
    f: '0',
    g: '1700000000000',
    h: '0',
    i: 'KEYS\u0001k1\u0002',
    j: '0',
    k: 'false',
    m: 'false',
    n: 'broker-a',
  };

  it('encodes with the one-letter names a…n', () => {
    expect(SendMessageRequestHeader.encode(header, true)).toEqual(short);
  });

  it('decodes the one-letter names, ignoring the long ones', () => {
    expect(SendMessageRequestHeader.decode(short, true)).toEqual(header);
    expect(() =>
      SendMessageRequestHeader.decode(SendMessageRequestHeader.encode(header), true),
    ).toThrow(HeaderError);
  });

  it('decodes and encodes the long names for SEND_MESSAGE (10)', () => {
    const long = SendMessageRequestHeader.encode(header);
    expect(long).toMatchObject({
      producerGroup: 'PG',
      queueId: '1',
      bornTimestamp: '1700000000000',
    });
    expect(SendMessageRequestHeader.decode(long)).toEqual(header);
  });

  it('names the short wire field in a missing-field error', () => {
    const noQueue: Record<string, string> = { ...short };
    delete noQueue.e;
    expect(() => SendMessageRequestHeader.decode(noQueue, true)).toThrow(/missing header field e/);
  });

  it('throws HeaderError on a non-integer queueId (e)', () => {
    expect(() => SendMessageRequestHeader.decode({ ...short, e: 'one' }, true)).toThrow(
      HeaderError,
    );
  });
});

describe('declared headers', () => {
  it('decodes Go pull headers with a nanosecond subVersion', () => {
    const pull = PullMessageRequestHeader.decode({
      consumerGroup: 'G',
      topic: 'T',
      queueId: '0',
      queueOffset: '0',
      maxMsgNums: '32',
      sysFlag: '2',
      commitOffset: '0',
      suspendTimeoutMillis: '20000',
      subscription: '*',
      subVersion: '1700000000000000000',
      expressionType: 'TAG',
    });
    expect(pull.subVersion).toBe(1.7e18);
  });

  it("decodes Java's query-by-unique-key endTimestamp = Long.MAX_VALUE", () => {
    const q = QueryMessageRequestHeader.decode({
      topic: 'T',
      key: 'k',
      maxNum: '32',
      beginTimestamp: '0',
      endTimestamp: '9223372036854775807',
    });
    expect(q.endTimestamp).toBeGreaterThan(Date.now());
  });
});
