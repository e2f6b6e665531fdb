/**
 * Byte compatibility with the npm client ali-ons 3.12.0: its own message decoder must read the
 * records we encode, and its msgId must be our offsetMsgId.
 */
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import { createOffsetMsgId } from '../../../common/message/message-id';
import { decodeProperties, encodeProperties } from '../../../common/message/properties';
import { encodeRecord, type RecordToEncode } from '../../../common/message/record';
import { MessageSysFlag } from '../../../common/message/sysflag';

interface OnsMessage {
  storeSize: number;
  bodyCRC: number;
  queueId: number;
  flag: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer;
  topic: string;
  properties: Record<string, string | null>;
  msgId: string;
}

interface OnsByteBuffer {
  position(): number;
  hasRemaining(): boolean;
}

interface OnsDecoder {
  decode(bb: OnsByteBuffer): OnsMessage | null;
  decodes(bb: OnsByteBuffer): OnsMessage[];
  decodeMessageId(id: string): { address: string; offset: { toNumber(): number } };
  messageProperties2String(props: Record<string, string | null>): string;
}

const testRequire = createRequire(__filename);
const onsRequire = createRequire(testRequire.resolve('ali-ons'));
const decoder = testRequire('ali-ons/lib/message/message_decoder') as OnsDecoder;
// `byte` is ali-ons' own dependency; resolve it the way ali-ons does.
const ByteBuffer = onsRequire('byte') as { wrap(b: Buffer): OnsByteBuffer };

const STORE_HOST = { ip: '192.168.1.20', port: 10911 };

function message(overrides: Partial<RecordToEncode> = {}): RecordToEncode {
  return {
    topic: 'TopicTest',
    queueId: 2,
    flag: 0,
    queueOffset: 17,
    physicalOffset: 5_000_000_123,
    sysFlag: 0,
    bornTimestamp: 1700000000123,
    bornHost: { ip: '10.0.0.5', port: 54321 },
    storeTimestamp: 1700000000456,
    storeHost: STORE_HOST,
    reconsumeTimes: 1,
    preparedTransactionOffset: 0,
    body: Buffer.from('hello from the TypeScript broker'),
    properties: encodeProperties({ TAGS: 'TagA', KEYS: 'order-1 order-2', WAIT: 'true' }),
    ...overrides,
  };
}

describe('ali-ons message decoder reads our records', () => {
  it('decodes one record field for field', () => {
    const r = message();
    const bytes = encodeRecord(r);
    const bb = ByteBuffer.wrap(bytes);
    const m = decoder.decode(bb);
    expect(m).not.toBeNull();
    expect(bb.position()).toBe(bytes.length);
    expect(m!.storeSize).toBe(bytes.length);
    expect(m!.topic).toBe('TopicTest');
    expect(m!.body.toString()).toBe('hello from the TypeScript broker');
    expect(m!.properties.TAGS).toBe('TagA');
    expect(m!.properties.KEYS).toBe('order-1 order-2');
    expect(m!.queueId).toBe(2);
    expect(m!.queueOffset).toBe(17);
    expect(m!.commitLogOffset).toBe(5_000_000_123);
    expect(m!.bornTimestamp).toBe(1700000000123);
    expect(m!.storeTimestamp).toBe(1700000000456);
    expect(m!.bornHost).toBe('10.0.0.5:54321');
    expect(m!.storeHost).toBe('192.168.1.20:10911');
    expect(m!.reconsumeTimes).toBe(1);
    expect(m!.bodyCRC).toBe(bytes.readInt32BE(8));
    expect(m!.msgId).toBe(createOffsetMsgId(STORE_HOST, 5_000_000_123));
  });

  it('decodes records back to back, as in a pull body', () => {
    const records = [0, 1, 2].map((i) =>
      encodeRecord(
        message({
          queueOffset: 100 + i,
          physicalOffset: 4096 * i,
          topic: i === 2 ? '%RETRY%group-订单' : 'TopicTest',
          body: Buffer.from(`body ${i} ✓`),
          properties: encodeProperties({ TAGS: `Tag${i}`, UNIQ_KEY: `KEY${i}` }),
        }),
      ),
    );
    const messages = decoder.decodes(ByteBuffer.wrap(Buffer.concat(records)));
    expect(
      messages.map((m) => [m.topic, m.queueOffset, m.body.toString(), m.properties.TAGS]),
    ).toEqual([
      ['TopicTest', 100, 'body 0 ✓', 'Tag0'],
      ['TopicTest', 101, 'body 1 ✓', 'Tag1'],
      ['%RETRY%group-订单', 102, 'body 2 ✓', 'Tag2'],
    ]);
    expect(messages.map((m) => m.msgId)).toEqual(
      [0, 4096, 8192].map((offset) => createOffsetMsgId(STORE_HOST, offset)),
    );
  });

  it('inflates a compressed body stored verbatim', () => {
    const original = Buffer.from('x'.repeat(5000) + 'end');
    const bytes = encodeRecord(
      message({ sysFlag: MessageSysFlag.COMPRESSED, body: deflateSync(original) }),
    );
    const m = decoder.decode(ByteBuffer.wrap(bytes));
    expect(m!.body.equals(original)).toBe(true);
  });

  it('parses our offsetMsgId', () => {
    const id = createOffsetMsgId(STORE_HOST, 5_000_000_123);
    const { address, offset } = decoder.decodeMessageId(id);
    expect(address).toBe('192.168.1.20:10911');
    expect(offset.toNumber()).toBe(5_000_000_123);
  });

  it('sends properties we parse, including its TAGS=null quirk', () => {
    const s = decoder.messageProperties2String({ TAGS: null, KEYS: 'k1', __SHARDING_KEY: 's' });
    expect(decodeProperties(s)).toEqual(
      new Map([
        ['TAGS', 'null'],
        ['KEYS', 'k1'],
        ['__SHARDING_KEY', 's'],
      ]),
    );
  });
});
