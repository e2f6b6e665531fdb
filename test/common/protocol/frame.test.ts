import {
  DEFAULT_MAX_FRAME_SIZE,
  type Frame,
  FrameDecoder,
  FrameError,
  framePrefix,
  SerializeType,
} from '../../../common/protocol/frame';
import { rawFrame } from '../../helpers/frames';
import { Prng } from '../../helpers/prng';

function decodeInChunks(stream: Buffer, cuts: readonly number[], maxFrameSize?: number): Frame[] {
  const decoder = new FrameDecoder(maxFrameSize);
  const frames: Frame[] = [];
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    frames.push(...decoder.push(stream.subarray(start, cut)));
    start = cut;
  }
  expect(decoder.pendingBytes).toBe(0);
  return frames;
}

interface Expected {
  type: number;
  header: string;
  body?: string;
}

function expectFrames(frames: Frame[], expected: readonly Expected[]): void {
  expect(
    frames.map((f) => ({
      type: f.serializeType,
      header: f.header.toString('latin1'),
      body: f.body?.toString('latin1'),
    })),
  ).toEqual(expected.map((e) => ({ type: e.type, header: e.header, body: e.body })));
}

function frameOf(e: Expected): Buffer {
  return rawFrame(
    e.type,
    Buffer.from(e.header, 'latin1'),
    e.body === undefined ? undefined : Buffer.from(e.body, 'latin1'),
  );
}

/** Throws the FrameError `push` throws, or fails. */
function pushError(decoder: FrameDecoder, chunk: Buffer): FrameError {
  try {
    decoder.push(chunk);
  } catch (err) {
    expect(err).toBeInstanceOf(FrameError);
    return err as FrameError;
  }
  throw new Error('push did not throw');
}

function lengthWord(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

describe('FrameDecoder', () => {
  const several: Expected[] = [
    { type: 0, header: '{"code":10,"opaque":1}', body: 'hello body' },
    { type: 1, header: 'binary\u0000header\u00ff' },
    { type: 0, header: '', body: 'only a body' },
    { type: 0, header: '' },
    { type: 1, header: 'x'.repeat(300), body: 'y'.repeat(1000) },
    { type: 0, header: '{}', body: '\u0000' },
  ];
  const stream = Buffer.concat(several.map(frameOf));

  it('decodes header, body and serialize type; an empty body is undefined', () => {
    const frames = new FrameDecoder().push(stream);
    expectFrames(frames, several);
    expect(frames[1].body).toBeUndefined();
    expect(frames[3].header.length).toBe(0);
  });

  it('decodes the stream in every split into two and three chunks', () => {
    for (let i = 0; i <= stream.length; i++) {
      expectFrames(decodeInChunks(stream, [i]), several);
    }
    // All pairs of cut points over the short frames at the start and around frame boundaries.
    const head = stream.subarray(0, 120);
    const headFrames = new FrameDecoder().push(head);
    expect(headFrames).toHaveLength(4);
    const rest = stream.subarray(120);
    for (let i = 0; i <= head.length; i++) {
      for (let j = i; j <= head.length; j++) {
        const decoder = new FrameDecoder();
        const frames = [
          ...decoder.push(head.subarray(0, i)),
          ...decoder.push(head.subarray(i, j)),
          ...decoder.push(head.subarray(j)),
          ...decoder.push(rest),
        ];
        expectFrames(frames, several);
      }
    }
  });

  it('decodes every possible split of a short stream (all 2^(n-1) chunkings)', () => {
    const short = Buffer.concat([
      frameOf({ type: 0, header: '' }),
      frameOf({ type: 1, header: 'h' }),
      frameOf({ type: 0, header: '', body: 'b' }),
    ]);
    expect(short.length).toBe(26);
    // All 2^16 chunkings of the first 17 bytes (both first frames), the rest as one more chunk.
    // Checked without expect() per round to keep this fast.
    const prefixLength = 17;
    const failures: string[] = [];
    for (let mask = 0; mask < 1 << (prefixLength - 1); mask++) {
      const decoder = new FrameDecoder();
      const frames: Frame[] = [];
      let start = 0;
      for (let cut = 1; cut <= prefixLength; cut++) {
        if (cut === prefixLength || mask & (1 << (cut - 1))) {
          frames.push(...decoder.push(short.subarray(start, cut)));
          start = cut;
        }
      }
      frames.push(...decoder.push(short.subarray(start)));
      const ok =
        frames.length === 3 &&
        decoder.pendingBytes === 0 &&
        frames[0].header.length === 0 &&
        frames[0].body === undefined &&
        frames[1].serializeType === 1 &&
        frames[1].header.toString() === 'h' &&
        frames[1].body === undefined &&
        frames[2].header.length === 0 &&
        frames[2].body?.toString() === 'b';
      if (!ok) failures.push(mask.toString(2));
    }
    expect(failures).toEqual([]);
  });

  it('decodes the stream byte by byte, frames completing at the right byte', () => {
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    const boundaries: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      const out = decoder.push(stream.subarray(i, i + 1));
      if (out.length > 0) boundaries.push(i + 1);
      frames.push(...out);
    }
    expectFrames(frames, several);
    let end = 0;
    expect(boundaries).toEqual(several.map((e) => (end += frameOf(e).length)));
  });

  it('decodes random chunkings (seeded) including empty chunks', () => {
    const rng = new Prng(20240601);
    for (let round = 0; round < 500; round++) {
      const cuts: number[] = [];
      let pos = 0;
      while (pos < stream.length) {
        pos = Math.min(stream.length, pos + rng.int(0, 64));
        cuts.push(pos);
      }
      expectFrames(decodeInChunks(stream, cuts), several);
    }
  });

  it('accepts a frame of exactly the max frame size (length prefix included)', () => {
    const max = 1024;
    const frame = rawFrame(0, Buffer.from('{}'), Buffer.alloc(max - 8 - 2, 7));
    expect(frame.length).toBe(max);
    const frames = new FrameDecoder(max).push(frame);
    expect(frames).toHaveLength(1);
    expect(frames[0].body?.length).toBe(max - 10);
  });

  it('rejects a frame one byte over the max as soon as its length word arrives', () => {
    const max = 1024;
    const decoder = new FrameDecoder(max);
    const err = pushError(decoder, lengthWord(max - 4 + 1));
    expect(err.reason).toBe('oversized');
  });

  it('defaults to the 16 MiB Java limit', () => {
    expect(DEFAULT_MAX_FRAME_SIZE).toBe(16 * 1024 * 1024);
    expect(new FrameDecoder().push(lengthWord(DEFAULT_MAX_FRAME_SIZE - 4))).toEqual([]);
    expect(pushError(new FrameDecoder(), lengthWord(DEFAULT_MAX_FRAME_SIZE - 3)).reason).toBe(
      'oversized',
    );
  });

  it.each([
    ['negative', -1, 'bad_length'],
    ['most negative', -0x80000000, 'bad_length'],
    ['zero', 0, 'bad_length'],
    ['three (no room for the header word)', 3, 'bad_length'],
    ['huge', 0x7fffffff, 'oversized'],
  ])('rejects a %s length word before buffering the frame', (_name, length, reason) => {
    const decoder = new FrameDecoder();
    // The length word arrives split in two chunks; nothing else follows.
    expect(decoder.push(lengthWord(length).subarray(0, 2))).toEqual([]);
    expect(pushError(decoder, lengthWord(length).subarray(2)).reason).toBe(reason);
  });

  it('accepts the smallest frame: length 4, no header, no body', () => {
    const frames = new FrameDecoder().push(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0]));
    expect(frames).toHaveLength(1);
    expect(frames[0].header.length).toBe(0);
    expect(frames[0].body).toBeUndefined();
  });

  it('rejects a header length larger than the frame once the header word arrives', () => {
    const prefix = Buffer.alloc(8);
    prefix.writeInt32BE(4 + 10, 0); // 10 bytes after the header word…
    prefix.writeUInt32BE(11, 4); // …but an 11-byte header
    const decoder = new FrameDecoder();
    expect(pushError(decoder, prefix).reason).toBe('bad_header_length');
  });

  it('accepts a header that fills the whole frame (no body)', () => {
    const frame = rawFrame(0, Buffer.from('{"code":1}'));
    const frames = new FrameDecoder().push(frame);
    expect(frames[0].header.toString()).toBe('{"code":1}');
    expect(frames[0].body).toBeUndefined();
  });

  it.each([2, 3, 0x7f, 0x80, 0xff])(
    'rejects serialize type %i once the header word arrives',
    (type) => {
      const prefix = Buffer.alloc(8);
      prefix.writeInt32BE(4 + 2, 0);
      prefix.writeUInt32BE(((type << 24) | 2) >>> 0, 4);
      expect(pushError(new FrameDecoder(), prefix).reason).toBe('bad_serialize_type');
    },
  );

  it('keeps failing after an error instead of decoding what follows', () => {
    const decoder = new FrameDecoder();
    const good = frameOf({ type: 0, header: '{}' });
    const bad = Buffer.concat([lengthWord(-5), good]);
    expect(pushError(decoder, bad).reason).toBe('bad_length');
    expect(() => decoder.push(good)).toThrow(FrameError);
  });

  it('returns complete frames and keeps the partial rest pending', () => {
    const decoder = new FrameDecoder();
    const frame = frameOf({ type: 0, header: '{}', body: 'abc' });
    const frames = decoder.push(Buffer.concat([frame, frame.subarray(0, 6)]));
    expect(frames).toHaveLength(1);
    expect(decoder.pendingBytes).toBe(6);
    expect(decoder.push(frame.subarray(6))).toHaveLength(1);
    expect(decoder.pendingBytes).toBe(0);
  });
});

describe('framePrefix', () => {
  it('writes totalLength and (type << 24 | H)', () => {
    expect(framePrefix(SerializeType.JSON, 10, 5)).toEqual(Buffer.from([0, 0, 0, 19, 0, 0, 0, 10]));
    expect(framePrefix(SerializeType.ROCKETMQ, 0x123456, 0)).toEqual(
      Buffer.from([0, 0x12, 0x34, 0x5a, 1, 0x12, 0x34, 0x56]),
    );
  });

  it('refuses a header length that does not fit in 24 bits', () => {
    expect(() => framePrefix(SerializeType.JSON, 0x1000000, 0)).toThrow(RangeError);
  });
});
