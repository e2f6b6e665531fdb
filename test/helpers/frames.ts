/**
 * Frames and headers built by hand from the byte layouts of `shared/spec/remoting.md` §1.2–§1.4,
 * independently of the codec under test, so tests can compare the codec against the spec.
 */

/** `totalLength i32 | (type << 24 | H) i32 | header | body` (§1.2). */
export function rawFrame(serializeType: number, header: Buffer, body: Buffer = Buffer.alloc(0)) {
  const prefix = Buffer.alloc(8);
  prefix.writeInt32BE(4 + header.length + body.length, 0);
  prefix.writeUInt32BE(((serializeType << 24) | header.length) >>> 0, 4);
  return Buffer.concat([prefix, header, body]);
}

/** A frame with a JSON header given as text or as an object (serialized compactly). */
export function jsonFrame(header: string | object, body?: Buffer): Buffer {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  return rawFrame(0, Buffer.from(text, 'utf8'), body);
}

export interface BinaryHeaderSpec {
  code: number;
  language: number;
  version: number;
  opaque: number;
  flag: number;
  remark?: string | Buffer;
  /** Entries in order; a key or value may be given as raw bytes (e.g. zero-length). */
  ext?: [string | Buffer, string | Buffer][];
  /** Overrides the written remark length (for malformed headers). */
  remarkLength?: number;
  /** Overrides the written extFields block length (for malformed headers). */
  extLength?: number;
}

const bytes = (v: string | Buffer) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

/** The ROCKETMQ binary header of §1.4, field by field. */
export function binaryHeader(spec: BinaryHeaderSpec): Buffer {
  const fixed = Buffer.alloc(13);
  fixed.writeInt16BE(spec.code, 0);
  fixed.writeUInt8(spec.language, 2);
  fixed.writeInt16BE(spec.version, 3);
  fixed.writeInt32BE(spec.opaque, 5);
  fixed.writeInt32BE(spec.flag, 9);
  const remark = spec.remark === undefined ? Buffer.alloc(0) : bytes(spec.remark);
  const remarkLength = Buffer.alloc(4);
  remarkLength.writeInt32BE(spec.remarkLength ?? remark.length, 0);
  const entries: Buffer[] = [];
  for (const [k, v] of spec.ext ?? []) {
    const key = bytes(k);
    const value = bytes(v);
    const keyLength = Buffer.alloc(2);
    keyLength.writeInt16BE(key.length, 0);
    const valueLength = Buffer.alloc(4);
    valueLength.writeInt32BE(value.length, 0);
    entries.push(keyLength, key, valueLength, value);
  }
  const block = Buffer.concat(entries);
  const extLength = Buffer.alloc(4);
  extLength.writeInt32BE(spec.extLength ?? block.length, 0);
  return Buffer.concat([fixed, remarkLength, remark, extLength, block]);
}

/** Reads the two prefix words of a frame. */
export function readPrefix(frame: Buffer): {
  totalLength: number;
  serializeType: number;
  headerLength: number;
} {
  const word = frame.readUInt32BE(4);
  return {
    totalLength: frame.readInt32BE(0),
    serializeType: word >>> 24,
    headerLength: word & 0xffffff,
  };
}
