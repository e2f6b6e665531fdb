import { RecordError } from '../../../common/message/errors';
import {
  appendProperties,
  decodeProperties,
  encodeProperties,
  getProperty,
  MessageConst,
} from '../../../common/message/properties';
import { prng } from './fixtures';

const S1 = '\u0001';
const S2 = '\u0002';

describe('MessageConst', () => {
  it('uses the RocketMQ wire names', () => {
    expect(MessageConst).toMatchObject({
      KEYS: 'KEYS',
      TAGS: 'TAGS',
      WAIT: 'WAIT',
      DELAY: 'DELAY',
      RETRY_TOPIC: 'RETRY_TOPIC',
      REAL_TOPIC: 'REAL_TOPIC',
      REAL_QID: 'REAL_QID',
      TRAN_MSG: 'TRAN_MSG',
      PGROUP: 'PGROUP',
      UNIQ_KEY: 'UNIQ_KEY',
      RECONSUME_TIME: 'RECONSUME_TIME',
      MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
      ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
      CLUSTER: 'CLUSTER',
      TRACE_ON: 'TRACE_ON',
      TRANSACTION_ID: '__transactionId__',
      CONSUME_START_TIME: 'CONSUME_START_TIME',
    });
  });
});

describe('encodeProperties', () => {
  it('terminates every pair, the last included, with U+0002', () => {
    expect(encodeProperties({ TAGS: 'TagA', KEYS: 'k1 k2' })).toBe(
      `TAGS${S1}TagA${S2}KEYS${S1}k1 k2${S2}`,
    );
    expect(
      encodeProperties(
        new Map([
          ['UNIQ_KEY', 'ABC'],
          ['WAIT', 'true'],
        ]),
      ),
    ).toBe(`UNIQ_KEY${S1}ABC${S2}WAIT${S1}true${S2}`);
    expect(encodeProperties({})).toBe('');
  });

  it('skips pairs with an empty name or value', () => {
    expect(encodeProperties({ A: '', '': 'x', B: 'b' })).toBe(`B${S1}b${S2}`);
  });

  it('encodes non-ASCII values as they are', () => {
    const props = { KEYS: '订单 😀' };
    expect(decodeProperties(encodeProperties(props)).get('KEYS')).toBe('订单 😀');
  });

  it('refuses separators that would corrupt the string', () => {
    expect(() => encodeProperties({ ['A' + S1]: 'v' })).toThrow(RecordError);
    expect(() => encodeProperties({ ['A' + S2]: 'v' })).toThrow(RecordError);
    expect(() => encodeProperties({ A: 'v' + S2 })).toThrow(RecordError);
    // A U+0001 inside a value survives: parsers split at the first one.
    expect(decodeProperties(encodeProperties({ A: `x${S1}y` })).get('A')).toBe(`x${S1}y`);
  });
});

describe('decodeProperties (Java rules)', () => {
  it('parses a well-formed string', () => {
    expect(decodeProperties(`TAGS${S1}TagA${S2}KEYS${S1}k1 k2${S2}`)).toEqual(
      new Map([
        ['TAGS', 'TagA'],
        ['KEYS', 'k1 k2'],
      ]),
    );
  });

  it('tolerates a missing final separator', () => {
    expect(decodeProperties(`A${S1}1${S2}B${S1}2`)).toEqual(
      new Map([
        ['A', '1'],
        ['B', '2'],
      ]),
    );
  });

  it('drops pairs with an empty value or name, and items without U+0001', () => {
    expect(decodeProperties(`A${S1}${S2}${S1}v${S2}junk${S2}${S2}B${S1}b${S2}`)).toEqual(
      new Map([['B', 'b']]),
    );
    expect(decodeProperties('')).toEqual(new Map());
    expect(decodeProperties(`${S2}${S2}${S1}`)).toEqual(new Map());
  });

  it("keeps ali-ons' literal TAGS=null as an ordinary value", () => {
    expect(decodeProperties(`TAGS${S1}null${S2}KEYS${S1}a${S2}`).get('TAGS')).toBe('null');
  });

  it('keeps the last value of a repeated name and splits at the first U+0001', () => {
    const m = decodeProperties(`A${S1}1${S2}A${S1}2${S2}B${S1}x${S1}y${S2}`);
    expect(m.get('A')).toBe('2');
    expect(m.get('B')).toBe(`x${S1}y`);
  });
});

describe('getProperty', () => {
  it('finds one value without building a map', () => {
    const s = encodeProperties({ KEYS: 'k', TAGS: 'TagA', UNIQ_KEY: 'U' });
    expect(getProperty(s, 'TAGS')).toBe('TagA');
    expect(getProperty(s, 'UNIQ_KEY')).toBe('U');
    expect(getProperty(s, 'TAG')).toBeUndefined();
    expect(getProperty(s, 'AGS')).toBeUndefined();
    expect(getProperty(s, '')).toBeUndefined();
  });

  it('agrees with decodeProperties on random strings', () => {
    const rand = prng(7);
    const alphabet = ['A', 'B', 'x', S1, S2];
    for (let i = 0; i < 3000; i++) {
      let s = '';
      const n = Math.floor(rand() * 16);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      const map = decodeProperties(s);
      for (const name of ['A', 'B', 'AB', 'x']) expect(getProperty(s, name)).toBe(map.get(name));
    }
  });
});

describe('appendProperties', () => {
  it('inserts a separator only when the first string lacks a final one', () => {
    expect(appendProperties(`A${S1}1${S2}`, `CLUSTER${S1}c${S2}`)).toBe(
      `A${S1}1${S2}CLUSTER${S1}c${S2}`,
    );
    expect(appendProperties(`A${S1}1`, `CLUSTER${S1}c${S2}`)).toBe(
      `A${S1}1${S2}CLUSTER${S1}c${S2}`,
    );
    expect(appendProperties('', `W${S1}t${S2}`)).toBe(`W${S1}t${S2}`);
    expect(appendProperties(`A${S1}1`, '')).toBe(`A${S1}1`);
    expect(decodeProperties(appendProperties(`A${S1}1`, `B${S1}2`))).toEqual(
      new Map([
        ['A', '1'],
        ['B', '2'],
      ]),
    );
  });
});
