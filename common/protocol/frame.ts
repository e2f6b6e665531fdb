/**
 * Remoting frame codec (`shared/spec/remoting.md` §1.2):
 *
 *   totalLength i32 | headerWord i32 = (serializeType << 24) | H | header (H) | body
 *
 * totalLength counts everything after itself. The decoder is streaming: it takes TCP chunks
 * in any split and yields whole frames, and rejects a frame as soon as its length word says it
 * can never be valid, before buffering its bytes.
 */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

export const SerializeType = { JSON: 0, ROCKETMQ: 1 } as const;
export type SerializeType = (typeof SerializeType)[keyof typeof SerializeType];

export interface Frame {
  serializeType: SerializeType;
  header: Buffer;
  body: Buffer | undefined;
}

/** A frame that can never be decoded; the connection it came on must be closed. */
export class FrameError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  /**
   * Where the unread bytes start in chunks[0]. Frames are cut from the chunk at this offset
   * rather than by re-slicing the chunk after every frame: that saves two Buffer objects per
   * frame, which add up at tens of thousands of frames a second.
   */
  private offset = 0;
  private buffered = 0;
  private failed: FrameError | undefined;

  /** @param maxFrameSize largest accepted on-wire frame, length prefix included. */
  constructor(private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {}

  /**
   * Adds received bytes and returns every frame they complete. Throws FrameError; after that
   * the stream has no frame boundaries any more and every later call throws the same error.
   */
  push(chunk: Buffer): Frame[] {
    if (this.failed) throw this.failed;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    try {
      while (this.buffered >= 4) {
        const totalLength = this.peekInt32(0);
        if (totalLength < 4 || totalLength + 4 > this.maxFrameSize) {
          throw new FrameError(
            totalLength < 4 ? 'bad_length' : 'oversized',
            `frame length ${totalLength} outside [4, ${this.maxFrameSize - 4}]`,
          );
        }
        if (this.buffered < 8) break;
        // The header word can condemn the frame too: check it before buffering the rest.
        checkHeaderWord(totalLength, this.peekInt32(4) >>> 0);
        if (this.buffered < totalLength + 4) break;
        frames.push(this.takeFrame(totalLength + 4));
      }
    } catch (err) {
      if (err instanceof FrameError) {
        this.failed = err;
        this.chunks = [];
        this.offset = 0;
        this.buffered = 0;
      }
      throw err;
    }
    return frames;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** The i32 at `at` (< 8) of the buffered bytes, which must be at least at + 4. */
  private peekInt32(at: number): number {
    if (this.chunks[0].length - this.offset < at + 4) this.joinChunks();
    return this.chunks[0].readInt32BE(this.offset + at);
  }

  /** Makes the buffered bytes one chunk, for a frame or length word split across reads. */
  private joinChunks(): void {
    this.chunks[0] = this.chunks[0].subarray(this.offset);
    this.chunks = [Buffer.concat(this.chunks)];
    this.offset = 0;
  }

  /** Cuts the next frame, `n` buffered bytes long, out of the buffered bytes. */
  private takeFrame(n: number): Frame {
    if (this.chunks[0].length - this.offset < n) this.joinChunks();
    const chunk = this.chunks[0];
    const frame = parseFrame(chunk, this.offset, this.offset + n);
    this.offset += n;
    this.buffered -= n;
    if (this.offset === chunk.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    return frame;
  }
}

function checkHeaderWord(totalLength: number, word: number): void {
  const serializeType = word >>> 24;
  const headerLength = word & 0x00ffffff;
  if (serializeType !== SerializeType.JSON && serializeType !== SerializeType.ROCKETMQ) {
    throw new FrameError('bad_serialize_type', `unknown serialize type ${serializeType}`);
  }
  if (headerLength > totalLength - 4) {
    throw new FrameError(
      'bad_header_length',
      `header length ${headerLength} exceeds frame length ${totalLength}`,
    );
  }
}

/** The frame in chunk[start, end). */
function parseFrame(chunk: Buffer, start: number, end: number): Frame {
  const word = chunk.readUInt32BE(start + 4);
  const bodyStart = start + 8 + (word & 0x00ffffff);
  return {
    serializeType: (word >>> 24) as SerializeType,
    header: chunk.subarray(start + 8, bodyStart),
    body: bodyStart < end ? chunk.subarray(bodyStart, end) : undefined,
  };
}

/** The 8-byte frame prefix for a header of `headerLength` and a body of `bodyLength` bytes. */
export function framePrefix(
  serializeType: SerializeType,
  headerLength: number,
  bodyLength: number,
): Buffer {
  const prefix = Buffer.allocUnsafe(8);
  writeFramePrefix(prefix, serializeType, headerLength, bodyLength);
  return prefix;
}

/** Writes the frame prefix into the first 8 bytes of `frame`. */
export function writeFramePrefix(
  frame: Buffer,
  serializeType: SerializeType,
  headerLength: number,
  bodyLength: number,
): void {
  if (headerLength > 0x00ffffff) {
    throw new RangeError(`header length ${headerLength} does not fit in 24 bits`);
  }
  frame.writeInt32BE(4 + headerLength + bodyLength, 0);
  frame.writeUInt32BE(((serializeType << 24) | headerLength) >>> 0, 4);
}
