import { decodeBatchBody, encodeBatchBody } from '../../../common/message/batch';
import { RecordError } from '../../../common/message/errors';
import { prng, randomBuffer } from './fixtures';

/** Two inner messages, built field by field from the remoting.md §6.5 table. */
function handBuiltBatch(): Buffer {
  const m1Body = Buffer.from('hello');
  const m1Props = Buffer.from('KEYS\u0001k1\u0002UNIQ_KEY\u0001AB12\u0002');
  const m2Body = Buffer.from('second message');
  const parts: Buffer[] = [];
  for (const [flag, body, props] of [
    [1, m1Body, m1Props],
    [-2, m2Body, Buffer.alloc(0)],
  ] as const) {
    const head = Buffer.alloc(20);
    head.writeInt32BE(22 + body.length + props.length, 0); // TOTALSIZE
    head.writeInt32BE(0, 4); // MAGICCODE
    head.writeInt32BE(0, 8); // BODYCRC
    head.writeInt32BE(flag, 12); // FLAG
    head.writeInt32BE(body.length, 16); // BODYLENGTH
    const propsLength = Buffer.alloc(2);
    propsLength.writeInt16BE(props.length, 0);
    parts.push(head, body, propsLength, props);
  }
  return Buffer.concat(parts);
}

const EXPECTED = [
  { flag: 1, body: Buffer.from('hello'), properties: 'KEYS\u0001k1\u0002UNIQ_KEY\u0001AB12\u0002' },
  { flag: -2, body: Buffer.from('second message'), properties: '' },
];

describe('batch body', () => {
  it('decodes a hand-built two-message batch', () => {
    expect(decodeBatchBody(handBuiltBatch())).toEqual(EXPECTED);
  });

  it('encodes to the same bytes', () => {
    expect(encodeBatchBody(EXPECTED).equals(handBuiltBatch())).toBe(true);
    expect(encodeBatchBody([]).length).toBe(0);
    expect(decodeBatchBody(Buffer.alloc(0))).toEqual([]);
  });

  it('round-trips non-ASCII properties', () => {
    const messages = [{ flag: 0, body: Buffer.from('x'), properties: 'KEYS\u0001订单\u0002' }];
    expect(decodeBatchBody(encodeBatchBody(messages))).toEqual(messages);
  });

  it('ignores TOTALSIZE, MAGICCODE and BODYCRC like the Java broker', () => {
    const b = handBuiltBatch();
    b.writeInt32BE(12345, 0);
    b.writeInt32BE(-1, 4);
    b.writeInt32BE(7, 8);
    expect(decodeBatchBody(b)).toEqual(EXPECTED);
  });

  it('rejects truncated and inconsistent bodies', () => {
    const b = handBuiltBatch();
    for (let cut = 1; cut < b.length; cut++) {
      const truncated = b.subarray(0, b.length - cut);
      const firstSize = 22 + 5 + Buffer.byteLength(EXPECTED[0].properties);
      if (truncated.length === firstSize) continue; // exactly the first message: valid
      expect(() => decodeBatchBody(truncated)).toThrow(RecordError);
    }
    const negative = Buffer.from(b);
    negative.writeInt32BE(-1, 16);
    expect(() => decodeBatchBody(negative)).toThrow(RecordError);
    const longProps = Buffer.from(b);
    longProps.writeInt16BE(1000, 20 + 5);
    expect(() => decodeBatchBody(longProps)).toThrow(RecordError);
  });

  it('throws only RecordError on random garbage', () => {
    const rand = prng(9);
    for (let i = 0; i < 3000; i++) {
      const b = randomBuffer(rand, Math.floor(rand() * 120));
      try {
        decodeBatchBody(b);
      } catch (e) {
        expect(e).toBeInstanceOf(RecordError);
      }
    }
  });

  it('refuses properties over 32767 bytes', () => {
    const properties = `K\u0001${'v'.repeat(32766)}\u0002`;
    expect(() => encodeBatchBody([{ flag: 0, body: Buffer.alloc(0), properties }])).toThrow(
      RecordError,
    );
  });
});
