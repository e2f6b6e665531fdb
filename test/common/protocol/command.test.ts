import { LANGUAGES, OUR_VERSION, ResponseCode } from '../../../common/protocol/codes';
import {
  CommandError,
  createRequest,
  createResponse,
  decodeCommand,
  encodeCommand,
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  isOneway,
  isResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../../common/protocol/command';
import { type Frame, FrameDecoder, SerializeType } from '../../../common/protocol/frame';
import { SendMessageRequestHeader } from '../../../common/protocol/headers';
import { binaryHeader, jsonFrame, rawFrame, readPrefix } from '../../helpers/frames';

/** The exact header line of spec §1.3 (what Java's fastjson emits for SEND_MESSAGE_V2). */
const SPEC_SEND_V2 =
  '{"code":310,"extFields":{"a":"PG","b":"TopicTest","c":"TBW102","d":"4","e":"1","f":"0",' +
  '"g":"1700000000000","h":"0","i":"KEYS\\u0001k1\\u0002UNIQ_KEY\\u0001C0A8...\\u0002WAIT\\u0001' +
  'true\\u0002TAGS\\u0001TagA\\u0002","j":"0","k":"false","m":"false","n":"broker-a"},"flag":0,' +
  '"language":"JAVA","opaque":17,"serializeTypeCurrentRPC":"JSON","version":409}';

function frameOf(buf: Buffer): Frame {
  const frames = new FrameDecoder().push(buf);
  expect(frames).toHaveLength(1);
  return frames[0];
}

const decodeJson = (header: string | object, body?: Buffer) =>
  decodeCommand(frameOf(jsonFrame(header, body)));

function encodeToFrame(cmd: OutgoingCommand): { bytes: Buffer; frame: Frame } {
  const bytes = Buffer.concat(encodeCommand(cmd));
  return { bytes, frame: frameOf(bytes) };
}

function commandError(fn: () => unknown): CommandError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CommandError);
    return err as CommandError;
  }
  throw new Error('did not throw');
}

describe('JSON header (serialize type 0)', () => {
  it('decodes the spec §1.3 example line', () => {
    const cmd = decodeJson(SPEC_SEND_V2, Buffer.from('body!'));
    expect(cmd).toEqual({
      code: 310,
      language: 'JAVA',
      version: 409,
      opaque: 17,
      flag: 0,
      extFields: {
        a: 'PG',
        b: 'TopicTest',
        c: 'TBW102',
        d: '4',
        e: '1',
        f: '0',
        g: '1700000000000',
        h: '0',
        i: 'KEYS\u0001k1\u0002UNIQ_KEY\u0001C0A8...\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002',
        j: '0',
        k: 'false',
        m: 'false',
        n: 'broker-a',
      },
      body: Buffer.from('body!'),
      serializeType: SerializeType.JSON,
    });
    expect(isResponse(cmd)).toBe(false);
    expect(isOneway(cmd)).toBe(false);
    const header = SendMessageRequestHeader.decode(cmd.extFields, true);
    expect(header).toMatchObject({
      producerGroup: 'PG',
      topic: 'TopicTest',
      defaultTopicQueueNums: 4,
      queueId: 1,
      bornTimestamp: 1700000000000,
      unitMode: false,
      batch: false,
      bname: 'broker-a',
    });
  });

  it('re-encodes the spec §1.3 example byte for byte', () => {
    const cmd = decodeJson(SPEC_SEND_V2);
    const { bytes, frame } = encodeToFrame(cmd);
    expect(frame.header.toString('utf8')).toBe(SPEC_SEND_V2);
    expect(readPrefix(bytes)).toEqual({
      totalLength: 4 + Buffer.byteLength(SPEC_SEND_V2),
      serializeType: 0,
      headerLength: Buffer.byteLength(SPEC_SEND_V2),
    });
  });

  it('encodes a response exactly as the §2.7 template: compact JSON, string ext values', () => {
    const response = createResponse({ opaque: 4242, serializeType: SerializeType.JSON }, 0, {
      extFields: { offset: '42' },
    });
    const { frame } = encodeToFrame(response);
    const text = frame.header.toString('utf8');
    expect(text).toBe(
      '{"code":0,"extFields":{"offset":"42"},"flag":1,"language":"JAVA","opaque":4242,' +
        '"serializeTypeCurrentRPC":"JSON","version":409}',
    );
    expect(frame.body).toBeUndefined();
  });

  it('always emits extFields values as JSON strings (Go rejects anything else)', () => {
    // A handler that slips numbers, booleans or bigints past the types must not break Go clients.
    const extFields = {
      offset: 42,
      flag: true,
      big: 2n ** 63n - 1n,
      text: 'x',
      gone: undefined,
      nil: null,
    } as unknown as Record<string, string>;
    const response = createResponse({ opaque: 1, serializeType: SerializeType.JSON }, 0, {
      extFields,
    });
    const parsed = JSON.parse(encodeToFrame(response).frame.header.toString()) as {
      extFields: Record<string, unknown>;
    };
    expect(parsed.extFields).toEqual({
      offset: '42',
      flag: 'true',
      big: '9223372036854775807',
      text: 'x',
    });
    for (const v of Object.values(parsed.extFields)) expect(typeof v).toBe('string');
  });

  it('creates responses with an empty extFields map, a remark when given, and the echoed opaque', () => {
    const request = decodeJson({ code: 105, opaque: 99, flag: 0, language: 'GO', version: 317 });
    const ok = JSON.parse(
      encodeToFrame(createResponse(request, 0)).frame.header.toString(),
    ) as Record<string, unknown>;
    expect(ok).toEqual({
      code: 0,
      extFields: {},
      flag: FLAG_RESPONSE,
      language: 'JAVA',
      opaque: 99,
      serializeTypeCurrentRPC: 'JSON',
      version: OUR_VERSION,
    });
    const failed = createResponse(request, ResponseCode.TOPIC_NOT_EXIST, { remark: 'no route' });
    expect(
      JSON.parse(encodeToFrame(failed).frame.header.toString()) as Record<string, unknown>,
    ).toMatchObject({ code: 17, remark: 'no route', opaque: 99, flag: 1 });
  });

  it('creates requests with opaque 0, flag 0, JAVA and our version', () => {
    const req = createRequest(105, { topic: 'T' });
    expect(req).toMatchObject({ code: 105, flag: 0, opaque: 0, language: 'JAVA', version: 409 });
    expect(req.serializeType).toBe(SerializeType.JSON);
  });

  it('coerces ali-ons style numeric and boolean ext values to strings', () => {
    const cmd = decodeJson(
      '{"code":310,"language":"JAVA","opaque":5,"flag":0,"version":121,"remark":null,' +
        '"extFields":{"a":"PG","e":3,"k":false,"m":true,"g":1700000000000,' +
        '"subVersion":1700000000000000000,"neg":-7,"x":null}}',
    );
    expect(cmd.extFields).toEqual({
      a: 'PG',
      e: '3',
      k: 'false',
      m: 'true',
      g: '1700000000000',
      subVersion: '1700000000000000000',
      neg: '-7',
    });
    expect(cmd.remark).toBeUndefined();
    expect(cmd.version).toBe(121);
  });

  it('accepts null remark and extFields, missing optional keys, unknown keys, any key order', () => {
    const cmd = decodeJson('{"opaque":3,"extFields":null,"remark":null,"whatever":[1],"code":34}');
    expect(cmd).toEqual({
      code: 34,
      language: 'OTHER',
      version: 0,
      opaque: 3,
      flag: 0,
      serializeType: SerializeType.JSON,
    });
  });

  it('keeps a remark and U+0001/U+0002 in values', () => {
    const cmd = decodeJson({
      code: 1,
      opaque: 2,
      flag: 1,
      remark: 'bad \u00e9',
      extFields: { p: 'a\u0001b\u0002' },
    });
    expect(cmd.remark).toBe('bad \u00e9');
    expect(cmd.extFields).toEqual({ p: 'a\u0001b\u0002' });
    expect(isResponse(cmd)).toBe(true);
  });

  it.each([
    ['not JSON', '{"code":10,', 'bad_json'],
    ['empty header', '', 'bad_json'],
    ['invalid UTF-8 garbage', '\u00ff\u00fe', 'bad_json'],
    ['an array', '[1,2]', 'bad_header'],
    ['a number', '42', 'bad_header'],
    ['null', 'null', 'bad_header'],
    ['a string', '"x"', 'bad_header'],
    ['no code', '{"opaque":1}', 'bad_header'],
    ['no opaque', '{"code":1}', 'bad_header'],
    ['a string code', '{"code":"10","opaque":1}', 'bad_header'],
    ['a fractional opaque', '{"code":10,"opaque":1.5}', 'bad_header'],
    ['an opaque beyond int32', '{"code":10,"opaque":2147483648}', 'bad_header'],
    ['a string flag', '{"code":10,"opaque":1,"flag":"1"}', 'bad_header'],
    ['a string version', '{"code":10,"opaque":1,"version":"409"}', 'bad_header'],
    ['a numeric remark', '{"code":10,"opaque":1,"remark":5}', 'bad_header'],
    ['extFields an array', '{"code":10,"opaque":1,"extFields":["a"]}', 'bad_header'],
    ['extFields a string', '{"code":10,"opaque":1,"extFields":"a=b"}', 'bad_header'],
    ['a nested ext value', '{"code":10,"opaque":1,"extFields":{"a":{"b":1}}}', 'bad_header'],
    ['an array ext value', '{"code":10,"opaque":1,"extFields":{"a":[1]}}', 'bad_header'],
  ])('rejects a header that is %s', (_name, text, reason) => {
    const frame = frameOf(rawFrame(0, Buffer.from(text, 'latin1')));
    expect(commandError(() => decodeCommand(frame)).reason).toBe(reason);
  });

  it('does not let a __proto__ ext key change the prototype of extFields', () => {
    const cmd = decodeJson('{"code":10,"opaque":1,"extFields":{"__proto__":"x","topic":"T"}}');
    expect(Object.getPrototypeOf(cmd.extFields)).toBe(Object.prototype);
    expect(cmd.extFields?.topic).toBe('T');
  });
});

describe('binary header (serialize type 1, ROCKETMQ)', () => {
  const spec = {
    code: 310,
    language: 9, // GO
    version: 409,
    opaque: 0x01020304,
    flag: FLAG_ONEWAY,
    remark: 'r\u00e9mark',
    ext: [
      ['topic', 'TopicTest'],
      ['queueId', '3'],
    ] as [string, string][],
  };

  it('decodes a header built by hand from the §1.4 table', () => {
    const header = binaryHeader(spec);
    expect(header.length).toBe(21 + 7 + (2 + 5 + 4 + 9) + (2 + 7 + 4 + 1));
    const cmd = decodeCommand(frameOf(rawFrame(1, header, Buffer.from([1, 2, 3]))));
    expect(cmd).toEqual({
      code: 310,
      language: 'GO',
      version: 409,
      opaque: 0x01020304,
      flag: FLAG_ONEWAY,
      remark: 'r\u00e9mark',
      extFields: { topic: 'TopicTest', queueId: '3' },
      body: Buffer.from([1, 2, 3]),
      serializeType: SerializeType.ROCKETMQ,
    });
    expect(isOneway(cmd)).toBe(true);
  });

  it('encodes the same bytes as the hand-built header', () => {
    const cmd: OutgoingCommand = {
      code: 310,
      language: 'GO',
      version: 409,
      opaque: 0x01020304,
      flag: FLAG_ONEWAY,
      remark: 'r\u00e9mark',
      extFields: { topic: 'TopicTest', queueId: '3' },
      serializeType: SerializeType.ROCKETMQ,
    };
    const { bytes, frame } = encodeToFrame(cmd);
    expect(frame.serializeType).toBe(SerializeType.ROCKETMQ);
    expect(frame.header).toEqual(binaryHeader(spec));
    expect(readPrefix(bytes).serializeType).toBe(1);
  });

  it('encodes no remark and no extFields as zero lengths', () => {
    const cmd: OutgoingCommand = {
      code: 0,
      language: 'JAVA',
      version: 409,
      opaque: -1,
      flag: FLAG_RESPONSE,
      serializeType: SerializeType.ROCKETMQ,
    };
    const { frame } = encodeToFrame(cmd);
    expect(frame.header).toEqual(
      binaryHeader({ code: 0, language: 0, version: 409, opaque: -1, flag: 1 }),
    );
    expect(frame.header.length).toBe(21);
    expect(decodeCommand(frame)).toEqual({ ...cmd, language: 'JAVA' });
  });

  it('skips entries with a zero-length key or value, as Java decodes them to null', () => {
    const header = binaryHeader({
      code: 11,
      language: 0,
      version: 409,
      opaque: 7,
      flag: 0,
      ext: [
        ['a', '1'],
        [Buffer.alloc(0), 'orphan'],
        ['empty', Buffer.alloc(0)],
        ['b', '2'],
      ],
    });
    const cmd = decodeCommand(frameOf(rawFrame(1, header)));
    expect(cmd.extFields).toEqual({ a: '1', b: '2' });
    expect(cmd.remark).toBeUndefined();
  });

  it('maps every LanguageCode byte and unknown bytes to OTHER', () => {
    LANGUAGES.forEach((name, byte) => {
      const header = binaryHeader({ code: 1, language: byte, version: 1, opaque: 1, flag: 0 });
      expect(decodeCommand(frameOf(rawFrame(1, header))).language).toBe(name);
    });
    const header = binaryHeader({ code: 1, language: 200, version: 1, opaque: 1, flag: 0 });
    expect(decodeCommand(frameOf(rawFrame(1, header))).language).toBe('OTHER');
  });

  it('reads code and version as signed i16 and casts wider codes like Java', () => {
    const header = binaryHeader({ code: -2, language: 0, version: -1, opaque: 1, flag: 0 });
    const cmd = decodeCommand(frameOf(rawFrame(1, header)));
    expect(cmd.code).toBe(-2);
    expect(cmd.version).toBe(-1);
    // Java casts int → short: a code that does not fit is truncated, not an exception.
    const wide: OutgoingCommand = {
      ...createRequest(200050),
      serializeType: SerializeType.ROCKETMQ,
    };
    const decoded = decodeCommand(encodeToFrame(wide).frame);
    expect(decoded.code).toBe((200050 << 16) >> 16);
  });

  const base = { code: 10, language: 0, version: 409, opaque: 1, flag: 0 };
  it.each([
    ['shorter than 21 bytes', Buffer.alloc(20)],
    ['a negative remark length', binaryHeader({ ...base, remark: 'abc', remarkLength: -1 })],
    [
      'a remark longer than the header',
      binaryHeader({ ...base, remark: 'abc', remarkLength: 100 }),
    ],
    [
      'a remark eating the extFields length',
      binaryHeader({ ...base, remark: 'abc', remarkLength: 5 }),
    ],
    ['a negative extFields length', binaryHeader({ ...base, ext: [['a', 'b']], extLength: -4 })],
    [
      'an extFields block past the end',
      binaryHeader({ ...base, ext: [['a', 'b']], extLength: 99 }),
    ],
    [
      'a truncated key length',
      binaryHeader({ ...base, ext: [['a', 'b']], extLength: 1 }).subarray(0, 22),
    ],
    [
      'an entry cut short by the block length',
      binaryHeader({ ...base, ext: [['a', 'b']], extLength: 5 }),
    ],
    [
      'a negative key length',
      Buffer.concat([
        binaryHeader({ ...base, extLength: 8 }),
        Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0]),
      ]),
    ],
    [
      'a key length past the block',
      Buffer.concat([
        binaryHeader({ ...base, extLength: 8 }),
        Buffer.from([0x00, 0x09, 0, 0, 0, 0, 0, 0]),
      ]),
    ],
    [
      'a negative value length',
      Buffer.concat([
        binaryHeader({ ...base, extLength: 8 }),
        Buffer.from([0x00, 0x01, 0x61, 0xff, 0xff, 0xff, 0xff, 0]),
      ]),
    ],
    [
      'a value length past the block',
      Buffer.concat([
        binaryHeader({ ...base, extLength: 8 }),
        Buffer.from([0x00, 0x01, 0x61, 0x00, 0x00, 0x00, 0x02, 0]),
      ]),
    ],
  ])('rejects a binary header with %s', (_name, header) => {
    const frame = frameOf(rawFrame(1, header));
    expect(commandError(() => decodeCommand(frame)).reason).toBe('bad_header');
  });
});

describe('responses mirror the request', () => {
  it.each([
    ['JSON', SerializeType.JSON],
    ['ROCKETMQ', SerializeType.ROCKETMQ],
  ])('answers a %s request in %s', (_name, type) => {
    const request: RemotingCommand = decodeCommand(
      frameOf(
        type === SerializeType.JSON
          ? jsonFrame({ code: 105, opaque: 77, flag: 0, extFields: { topic: 'T' } })
          : rawFrame(
              1,
              binaryHeader({ code: 105, language: 0, version: 409, opaque: 77, flag: 0 }),
            ),
      ),
    );
    const response = createResponse(request, 17, { remark: 'No topic route info' });
    const { bytes, frame } = encodeToFrame(response);
    expect(readPrefix(bytes).serializeType).toBe(type);
    const decoded = decodeCommand(frame);
    expect(decoded).toMatchObject({
      code: 17,
      opaque: 77,
      flag: FLAG_RESPONSE,
      remark: 'No topic route info',
      version: OUR_VERSION,
      serializeType: type,
    });
  });
});

describe('encodeCommand bodies', () => {
  it('sends a body given as several buffers back to back, counted in totalLength', () => {
    const parts = [Buffer.from('abc'), Buffer.alloc(0), Buffer.from('defg')];
    const cmd = createRequest(10, { a: '1' }, parts);
    const out = encodeCommand({ ...cmd, opaque: 5 });
    expect(out).toHaveLength(1); // a small body is copied behind the header
    const bytes = Buffer.concat(out);
    expect(readPrefix(bytes).totalLength).toBe(bytes.length - 4);
    expect(frameOf(bytes).body?.toString()).toBe('abcdefg');
  });

  it('sends large body parts as they are, without copying them', () => {
    const parts = [Buffer.alloc(20_000, 1), Buffer.alloc(30_000, 2)];
    const out = encodeCommand({ ...createRequest(10, { a: '1' }, parts), opaque: 5 });
    expect(out.slice(1)).toEqual(parts);
    expect(out[1].buffer).toBe(parts[0].buffer);
    const bytes = Buffer.concat(out);
    expect(readPrefix(bytes).totalLength).toBe(bytes.length - 4);
    expect(frameOf(bytes).body).toEqual(Buffer.concat(parts));
  });

  it('sends a single-buffer body and no body', () => {
    const one = Buffer.concat(encodeCommand(createRequest(10, undefined, Buffer.from('xyz'))));
    expect(frameOf(one).body?.toString()).toBe('xyz');
    const none = Buffer.concat(encodeCommand(createRequest(10)));
    expect(frameOf(none).body).toBeUndefined();
    expect(JSON.parse(frameOf(none).header.toString())).not.toHaveProperty('extFields');
  });
});
