import { encodeProperties } from '../../../common/message/properties';
import {
  BLANK_MAGIC,
  checkRecord,
  decodeRecord,
  decodeRecords,
  encodeRecord,
  encodeRecordInto,
  MAGIC_V1,
  MAGIC_V2,
  patchRecord,
  RECORD_FIXED_SIZE,
  RecordError,
  RecordOffset,
  recordSize,
  type RecordToEncode,
  readBody,
  readBodyCrc,
  readBornTimestamp,
  readFlag,
  readPhysicalOffset,
  readPropertiesString,
  readQueueId,
  readQueueOffset,
  readStoreTimestamp,
  readSysFlag,
  readTopic,
  readTotalSize,
} from '../../../common/message/record';
import { buildRecord, type FixtureFields, prng, randomBuffer, referenceCrc32 } from './fixtures';

const PROPS = `KEYS\u0001k1 k2\u0002TAGS\u0001TagA\u0002UNIQ_KEY\u00017F0000010001000000000000000A\u0002`;

/** The same message as a hand-built fixture and as encoder input. */
const FIXTURE: FixtureFields = {
  queueId: 3,
  flag: 7,
  queueOffset: 42n,
  physicalOffset: 0x1_0000_0005n, // above 2^32: both int64 halves matter
  sysFlag: 0x2 | 0x8,
  bornTimestamp: 1700000000123n,
  bornIp: [10, 1, 2, 3],
  bornPort: 54321,
  storeTimestamp: 1700000000456n,
  storeIp: [192, 168, 1, 20],
  storePort: 10911,
  reconsumeTimes: 2,
  preparedTransactionOffset: 0n,
  body: Buffer.from('Hello RocketMQ'),
  topic: 'TopicTest',
  properties: PROPS,
};

const INPUT: RecordToEncode = {
  topic: 'TopicTest',
  queueId: 3,
  flag: 7,
  queueOffset: 42,
  physicalOffset: 0x1_0000_0005,
  sysFlag: 0x2 | 0x8,
  bornTimestamp: 1700000000123,
  bornHost: { ip: '10.1.2.3', port: 54321 },
  storeTimestamp: 1700000000456,
  storeHost: { ip: '192.168.1.20', port: 10911 },
  reconsumeTimes: 2,
  preparedTransactionOffset: 0,
  body: Buffer.from('Hello RocketMQ'),
  properties: PROPS,
};

describe('constants', () => {
  it('match the spec', () => {
    expect(MAGIC_V1).toBe(0xdaa320a7 | 0);
    expect(MAGIC_V1).toBe(-626843481);
    expect(MAGIC_V2).toBe(0xdaa320ab | 0);
    expect(BLANK_MAGIC).toBe(0xcbd43194 | 0);
    expect(BLANK_MAGIC).toBe(-875286124);
    expect(RECORD_FIXED_SIZE).toBe(91);
    expect(RecordOffset).toEqual({
      TOTAL_SIZE: 0,
      MAGIC: 4,
      BODY_CRC: 8,
      QUEUE_ID: 12,
      FLAG: 16,
      QUEUE_OFFSET: 20,
      PHYSICAL_OFFSET: 28,
      SYS_FLAG: 36,
      BORN_TIMESTAMP: 40,
      BORN_HOST: 48,
      STORE_TIMESTAMP: 56,
      STORE_HOST: 64,
      RECONSUME_TIMES: 72,
      PREPARED_TRANSACTION_OFFSET: 76,
      BODY_LENGTH: 84,
      BODY: 88,
    });
    expect(recordSize(14, 9, 10)).toBe(124);
  });
});

describe('encodeRecord', () => {
  it('produces exactly the bytes of the hand-built spec fixture', () => {
    const expected = buildRecord(FIXTURE);
    const encoded = encodeRecord(INPUT);
    expect(encoded.length).toBe(91 + 14 + 9 + Buffer.byteLength(PROPS));
    expect(encoded.toString('hex')).toBe(expected.toString('hex'));
    // Spot checks against the table offsets.
    expect(encoded.readInt32BE(RecordOffset.TOTAL_SIZE)).toBe(encoded.length);
    expect(encoded.readUInt32BE(RecordOffset.MAGIC)).toBe(0xdaa320a7);
    expect(encoded.readInt32BE(RecordOffset.BODY_CRC)).toBe(
      referenceCrc32(INPUT.body) & 0x7fffffff,
    );
    expect(encoded.readBigInt64BE(RecordOffset.PHYSICAL_OFFSET)).toBe(0x1_0000_0005n);
    expect(encoded.toString('hex', 64, 72)).toBe('c0a8011400002a9f');
    expect(encoded[88 + 14]).toBe(9);
  });

  it('writes into a target buffer at a position, touching nothing else', () => {
    const expected = buildRecord(FIXTURE);
    const target = Buffer.alloc(expected.length + 20, 0xee);
    expect(encodeRecordInto(INPUT, target, 7)).toBe(expected.length);
    expect(target.subarray(7, 7 + expected.length).equals(expected)).toBe(true);
    expect(target.subarray(0, 7).every((b) => b === 0xee)).toBe(true);
    expect(target.subarray(7 + expected.length).every((b) => b === 0xee)).toBe(true);
    expect(() => encodeRecordInto(INPUT, target, 21)).toThrow(RecordError);
    expect(() => encodeRecordInto(INPUT, target, -1)).toThrow(RecordError);
  });

  it('encodes signed and large int64 values', () => {
    const r = {
      ...INPUT,
      queueOffset: Number.MAX_SAFE_INTEGER,
      preparedTransactionOffset: -1,
      storeTimestamp: 0,
      flag: -5,
      reconsumeTimes: 16,
    };
    const b = encodeRecord(r);
    expect(b.readBigInt64BE(20)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(b.readBigInt64BE(76)).toBe(-1n);
    const d = decodeRecord(b);
    expect(d.queueOffset).toBe(Number.MAX_SAFE_INTEGER);
    expect(d.preparedTransactionOffset).toBe(-1);
    expect(d.flag).toBe(-5);
  });

  it('clears the IPv6 host bits (hosts are always written as IPv4)', () => {
    const b = encodeRecord({ ...INPUT, sysFlag: 0x1 | 0x10 | 0x20 | 0x300 });
    expect(readSysFlag(b, 0)).toBe(0x301);
  });

  it('handles empty and non-ASCII topic, body and properties', () => {
    const props = encodeProperties({ KEYS: '订单-1 😀', TAGS: 'é' });
    const r = { ...INPUT, topic: 'Topic-主题', body: Buffer.alloc(0), properties: props };
    const b = encodeRecord(r);
    expect(b.length).toBe(91 + Buffer.byteLength('Topic-主题') + Buffer.byteLength(props));
    expect(
      b.equals(buildRecord({ ...FIXTURE, topic: 'Topic-主题', body: r.body, properties: props })),
    ).toBe(true);
    const d = decodeRecord(b);
    expect(d.topic).toBe('Topic-主题');
    expect(d.body.length).toBe(0);
    expect(d.properties.get('KEYS')).toBe('订单-1 😀');
    const empty = encodeRecord({ ...INPUT, topic: '', properties: '' });
    expect(empty.length).toBe(91 + 14);
    expect(decodeRecord(empty).properties.size).toBe(0);
  });

  it('encodes a long ASCII properties string', () => {
    const props = encodeProperties({ KEYS: 'k'.repeat(3000), TAGS: 'T' });
    const b = encodeRecord({ ...INPUT, properties: props });
    expect(readPropertiesString(b, 0)).toBe(props);
    expect(b.equals(buildRecord({ ...FIXTURE, properties: props }))).toBe(true);
  });

  it('limits topic to 127 bytes and properties to 32767 bytes', () => {
    expect(() => encodeRecord({ ...INPUT, topic: 't'.repeat(127) })).not.toThrow();
    expect(() => encodeRecord({ ...INPUT, topic: 't'.repeat(128) })).toThrow(RecordError);
    // 64 two-byte characters: 64 UTF-16 units but 128 bytes.
    expect(() => encodeRecord({ ...INPUT, topic: 'é'.repeat(64) })).toThrow(RecordError);
    const max = `K\u0001${'v'.repeat(32764)}\u0002`;
    expect(Buffer.byteLength(max)).toBe(32767);
    expect(readPropertiesString(encodeRecord({ ...INPUT, properties: max }), 0)).toBe(max);
    expect(() => encodeRecord({ ...INPUT, properties: max + 'x' })).toThrow(RecordError);
  });

  it('refuses non-IPv4 hosts without writing anything into the target', () => {
    const target = Buffer.alloc(400, 0xee);
    expect(() =>
      encodeRecordInto({ ...INPUT, storeHost: { ip: 'host', port: 1 } }, target, 0),
    ).toThrow(RecordError);
    expect(target.every((b) => b === 0xee)).toBe(true);
    expect(() => encodeRecord({ ...INPUT, bornHost: { ip: '::1', port: 1 } })).toThrow(RecordError);
  });
});

describe('decodeRecord', () => {
  it('reads every field of the hand-built fixture', () => {
    const d = decodeRecord(buildRecord(FIXTURE));
    expect(d).toEqual({
      topic: 'TopicTest',
      queueId: 3,
      flag: 7,
      queueOffset: 42,
      physicalOffset: 0x1_0000_0005,
      sysFlag: 0xa,
      bornTimestamp: 1700000000123,
      bornHost: { ip: '10.1.2.3', port: 54321 },
      storeTimestamp: 1700000000456,
      storeHost: { ip: '192.168.1.20', port: 10911 },
      reconsumeTimes: 2,
      preparedTransactionOffset: 0,
      bodyCrc: referenceCrc32(FIXTURE.body) & 0x7fffffff,
      body: Buffer.from('Hello RocketMQ'),
      properties: new Map([
        ['KEYS', 'k1 k2'],
        ['TAGS', 'TagA'],
        ['UNIQ_KEY', '7F0000010001000000000000000A'],
      ]),
      size: 91 + 14 + 9 + Buffer.byteLength(PROPS),
    });
  });

  it('copies the body unless asked to share it', () => {
    const b = buildRecord(FIXTURE);
    const copied = decodeRecord(b);
    const shared = decodeRecord(b, 0, true);
    b[88] = 0x68; // 'h'
    expect(copied.body.toString()).toBe('Hello RocketMQ');
    expect(shared.body.toString()).toBe('hello RocketMQ');
  });

  it('decodes a record at an offset and records back to back', () => {
    const a = encodeRecord(INPUT);
    const b = encodeRecord({ ...INPUT, queueOffset: 43, physicalOffset: 0x1_0000_0005 + a.length });
    const c = encodeRecord({ ...INPUT, topic: 'Other', body: Buffer.from('x') });
    const all = Buffer.concat([a, b, c]);
    expect(decodeRecord(all, a.length).queueOffset).toBe(43);
    const records = decodeRecords(all);
    expect(records.map((r) => [r.topic, r.queueOffset, r.body.toString()])).toEqual([
      ['TopicTest', 42, 'Hello RocketMQ'],
      ['TopicTest', 43, 'Hello RocketMQ'],
      ['Other', 42, 'x'],
    ]);
    expect(decodeRecords(Buffer.alloc(0))).toEqual([]);
    expect(() => decodeRecords(Buffer.concat([a, Buffer.alloc(3)]))).toThrow(RecordError);
    expect(() => decodeRecords(all.subarray(0, all.length - 1))).toThrow(RecordError);
  });

  it('reads what a Java broker may send: IPv6 hosts and v2 magic', () => {
    const v6: FixtureFields = {
      ...FIXTURE,
      sysFlag: 0x10 | 0x20,
      bornIp: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05],
      storeIp: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01],
    };
    const b = buildRecord(v6);
    expect(b.length).toBe(91 + 24 + 14 + 9 + Buffer.byteLength(PROPS));
    expect(checkRecord(b, 0, b.length, true)).toBe(b.length);
    const d = decodeRecord(b);
    expect(d.bornHost).toEqual({ ip: '2001:db8:0:0:0:0:0:5', port: 54321 });
    expect(d.storeHost).toEqual({ ip: 'fe80:0:0:0:0:0:0:1', port: 10911 });
    expect(d.storeTimestamp).toBe(1700000000456);
    expect(d.reconsumeTimes).toBe(2);
    expect(d.topic).toBe('TopicTest');
    expect(d.body.toString()).toBe('Hello RocketMQ');
    expect(d.properties.get('TAGS')).toBe('TagA');
    expect(readStoreTimestamp(b, 0)).toBe(1700000000456);
    expect(readTopic(b, 0)).toBe('TopicTest');
    expect(readPropertiesString(b, 0)).toBe(PROPS);
    expect(readBody(b, 0).toString()).toBe('Hello RocketMQ');
    patchRecord(b, 0, { storeTimestamp: 5 });
    expect(decodeRecord(b).storeTimestamp).toBe(5);

    const v2 = buildRecord({ ...FIXTURE, magic: MAGIC_V2, topicLengthBytes: 2 });
    expect(v2.length).toBe(92 + 14 + 9 + Buffer.byteLength(PROPS));
    expect(checkRecord(v2, 0, v2.length, true)).toBe(v2.length);
    expect(decodeRecord(v2).topic).toBe('TopicTest');
    expect(decodeRecord(v2).properties.get('KEYS')).toBe('k1 k2');
    expect(readTopic(v2, 0)).toBe('TopicTest');
    expect(readPropertiesString(v2, 0)).toBe(PROPS);
  });

  it('throws RecordError on malformed input', () => {
    const b = encodeRecord(INPUT);
    expect(() => decodeRecord(b.subarray(0, b.length - 1))).toThrow(RecordError);
    expect(() => decodeRecord(Buffer.alloc(200))).toThrow(RecordError);
    expect(() => decodeRecord(b, b.length)).toThrow(RecordError);
    const blank = Buffer.alloc(8);
    blank.writeInt32BE(8, 0);
    blank.writeInt32BE(BLANK_MAGIC, 4);
    expect(() => decodeRecord(blank)).toThrow(/blank/);
  });
});

describe('patchRecord and accessors', () => {
  it('patches the append-time fields in place', () => {
    const b = encodeRecord({ ...INPUT, queueOffset: 0, physicalOffset: 0, storeTimestamp: 0 });
    patchRecord(b, 0, {
      queueOffset: 42,
      physicalOffset: 0x1_0000_0005,
      storeTimestamp: 1700000000456,
    });
    expect(b.equals(buildRecord(FIXTURE))).toBe(true);
    patchRecord(b, 0, { queueOffset: 9 });
    expect(readQueueOffset(b, 0)).toBe(9);
    expect(readPhysicalOffset(b, 0)).toBe(0x1_0000_0005);
  });

  it('reads single fields of a record at an offset', () => {
    const pad = Buffer.alloc(13, 0xff);
    const rec = buildRecord(FIXTURE);
    const b = Buffer.concat([pad, rec]);
    expect(readTotalSize(b, 13)).toBe(rec.length);
    expect(readBodyCrc(b, 13)).toBe(referenceCrc32(FIXTURE.body) & 0x7fffffff);
    expect(readQueueId(b, 13)).toBe(3);
    expect(readFlag(b, 13)).toBe(7);
    expect(readQueueOffset(b, 13)).toBe(42);
    expect(readPhysicalOffset(b, 13)).toBe(0x1_0000_0005);
    expect(readSysFlag(b, 13)).toBe(0xa);
    expect(readBornTimestamp(b, 13)).toBe(1700000000123);
    expect(readStoreTimestamp(b, 13)).toBe(1700000000456);
    expect(readTopic(b, 13)).toBe('TopicTest');
    expect(readPropertiesString(b, 13)).toBe(PROPS);
    expect(readBody(b, 13).toString()).toBe('Hello RocketMQ');
  });
});

describe('checkRecord', () => {
  const rec = encodeRecord(INPUT);

  it('returns the size of a valid record', () => {
    expect(checkRecord(rec, 0, rec.length, true)).toBe(rec.length);
    expect(checkRecord(rec, 0, rec.length + 100, true)).toBe(rec.length); // limit past the buffer
    const two = Buffer.concat([rec, rec]);
    expect(checkRecord(two, rec.length, two.length, true)).toBe(rec.length);
  });

  it('rejects a torn tail', () => {
    for (const cut of [1, 2, 10, rec.length - 88, rec.length - 4, rec.length - 8]) {
      const torn = rec.subarray(0, rec.length - cut);
      expect(checkRecord(torn, 0, torn.length, false)).toBe(-1);
    }
    expect(checkRecord(rec, 0, rec.length - 1, false)).toBe(-1); // limit cuts it
    // A torn write that left zeros from TOPICLENGTH on (the lengths no longer add up), or from
    // inside the body on (the CRC fails). Zeros only inside the properties are not detectable by
    // the record format, in Java either.
    const zeroTail = Buffer.from(rec);
    zeroTail.fill(0, RecordOffset.BODY + INPUT.body.length);
    expect(checkRecord(zeroTail, 0, zeroTail.length, false)).toBe(-1);
    const zeroBody = Buffer.from(rec);
    zeroBody.fill(0, RecordOffset.BODY + 5, RecordOffset.BODY + INPUT.body.length);
    expect(checkRecord(zeroBody, 0, zeroBody.length, true)).toBe(-1);
    expect(checkRecord(zeroBody, 0, zeroBody.length, false)).toBe(rec.length);
  });

  it('checks the body CRC only when asked', () => {
    const flipped = Buffer.from(rec);
    flipped[RecordOffset.BODY + 3] ^= 0x01;
    expect(checkRecord(flipped, 0, flipped.length, true)).toBe(-1);
    expect(checkRecord(flipped, 0, flipped.length, false)).toBe(flipped.length);
  });

  it('rejects a TOTALSIZE that disagrees with the field lengths', () => {
    const longer = Buffer.concat([rec, Buffer.alloc(1)]);
    longer.writeInt32BE(rec.length + 1, 0);
    expect(checkRecord(longer, 0, longer.length, false)).toBe(-1);
    const shorter = Buffer.from(rec);
    shorter.writeInt32BE(rec.length - 1, 0);
    expect(checkRecord(shorter, 0, shorter.length, false)).toBe(-1);
    const badProps = Buffer.from(rec);
    badProps.writeInt16BE(-1, rec.length - Buffer.byteLength(PROPS) - 2);
    expect(checkRecord(badProps, 0, badProps.length, false)).toBe(-1);
  });

  it('rejects a bad magic and all-zero bytes', () => {
    const bad = Buffer.from(rec);
    bad.writeInt32BE(0x12345678, 4);
    expect(checkRecord(bad, 0, bad.length, false)).toBe(-1);
    const zeros = Buffer.alloc(4096);
    expect(checkRecord(zeros, 0, zeros.length, false)).toBe(-1);
    expect(checkRecord(zeros, 100, zeros.length, true)).toBe(-1);
  });

  it('returns 0 for a blank end-of-file filler', () => {
    const file = Buffer.alloc(64);
    file.writeInt32BE(64, 0);
    file.writeUInt32BE(0xcbd43194, 4);
    expect(checkRecord(file, 0, file.length, true)).toBe(0);
  });

  it('returns -1 for too few bytes and bad positions', () => {
    expect(checkRecord(rec, 0, 7, true)).toBe(-1);
    expect(checkRecord(Buffer.alloc(0), 0, 0, true)).toBe(-1);
    expect(checkRecord(rec, -1, rec.length, true)).toBe(-1);
    expect(checkRecord(rec, 0.5, rec.length, true)).toBe(-1);
    expect(checkRecord(rec, Number.NaN, rec.length, true)).toBe(-1);
    expect(checkRecord(rec, rec.length + 10, rec.length, true)).toBe(-1);
  });

  it('never throws on random garbage or mutated records', () => {
    const rand = prng(42);
    const valid = Buffer.concat([rec, encodeRecord({ ...INPUT, topic: 'T2' })]);
    for (let i = 0; i < 5000; i++) {
      let b: Buffer;
      if (i % 2 === 0) {
        b = randomBuffer(rand, Math.floor(rand() * 400));
        // Sometimes plant a valid magic so the deeper checks run.
        if (b.length >= 8 && rand() < 0.5) b.writeInt32BE(rand() < 0.8 ? MAGIC_V1 : MAGIC_V2, 4);
        if (b.length >= 8 && rand() < 0.5) b.writeInt32BE(Math.floor(rand() * b.length), 0);
      } else {
        b = Buffer.from(valid.subarray(0, Math.floor(rand() * (valid.length + 1))));
        const flips = Math.floor(rand() * 4);
        for (let j = 0; j < flips && b.length > 0; j++) {
          b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        }
      }
      const pos = Math.floor(rand() * (b.length + 2)) - 1;
      const limit = Math.floor(rand() * (b.length + 10));
      const size = checkRecord(b, pos, limit, rand() < 0.5);
      expect(
        size === -1 || size === 0 || (size >= 91 && pos + size <= Math.min(limit, b.length)),
      ).toBe(true);
      try {
        const d = decodeRecord(b, Math.max(pos, 0));
        expect(d.size).toBeGreaterThanOrEqual(91);
      } catch (e) {
        expect(e).toBeInstanceOf(RecordError);
      }
    }
  });
});
