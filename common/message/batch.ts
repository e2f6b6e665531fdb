/**
 * The SEND_BATCH_MESSAGE body (remoting.md §6.5): inner messages back to back, each
 *
 *   TOTALSIZE i32 = 22 + n + p | MAGICCODE i32 (0) | BODYCRC i32 (0) | FLAG i32 |
 *   BODYLENGTH i32 n | BODY | PROPERTIESLENGTH i16 p | PROPERTIES
 */
import { RecordError } from './errors';
import { MAX_PROPERTIES_LENGTH } from './record';

export interface BatchEntry {
  flag: number;
  body: Buffer;
  /** Encoded properties of this message (see `encodeProperties`). */
  properties: string;
}

/** Size of an inner message without body and properties. */
export const BATCH_ENTRY_FIXED_SIZE = 22;

/**
 * Splits a batch body into its messages; each `body` is a view into `body` (no copy). Like the
 * Java broker it reads the fields sequentially and ignores TOTALSIZE, MAGICCODE and BODYCRC;
 * throws RecordError when a length is negative or runs past the end.
 */
export function decodeBatchBody(body: Buffer): BatchEntry[] {
  const entries: BatchEntry[] = [];
  const end = body.length;
  let pos = 0;
  while (pos < end) {
    if (end - pos < BATCH_ENTRY_FIXED_SIZE) {
      throw new RecordError(`truncated batch entry header at ${pos}`);
    }
    const flag = body.readInt32BE(pos + 12);
    const bodyLength = body.readInt32BE(pos + 16);
    const bodyPos = pos + 20;
    if (bodyLength < 0 || bodyLength > end - bodyPos - 2) {
      throw new RecordError(`batch entry at ${pos}: BODYLENGTH ${bodyLength} runs past the end`);
    }
    const propertiesLengthPos = bodyPos + bodyLength;
    const propertiesLength = body.readInt16BE(propertiesLengthPos);
    const propertiesPos = propertiesLengthPos + 2;
    if (propertiesLength < 0 || propertiesLength > end - propertiesPos) {
      throw new RecordError(
        `batch entry at ${pos}: PROPERTIESLENGTH ${propertiesLength} runs past the end`,
      );
    }
    entries.push({
      flag,
      body: body.subarray(bodyPos, propertiesLengthPos),
      properties: body.toString('utf8', propertiesPos, propertiesPos + propertiesLength),
    });
    pos = propertiesPos + propertiesLength;
  }
  return entries;
}

/** Encodes messages as a batch body (MAGICCODE and BODYCRC written as 0, like the clients). */
export function encodeBatchBody(messages: readonly BatchEntry[]): Buffer {
  const propertiesLengths = messages.map((m) => Buffer.byteLength(m.properties, 'utf8'));
  let size = 0;
  for (let i = 0; i < messages.length; i++) {
    if (propertiesLengths[i] > MAX_PROPERTIES_LENGTH) {
      throw new RecordError(
        `properties are ${propertiesLengths[i]} bytes, more than ${MAX_PROPERTIES_LENGTH}`,
      );
    }
    size += BATCH_ENTRY_FIXED_SIZE + messages[i].body.length + propertiesLengths[i];
  }
  // Every byte is written below (MAGICCODE and BODYCRC as explicit zeros): no need to zero it.
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const p = propertiesLengths[i];
    buf.writeInt32BE(BATCH_ENTRY_FIXED_SIZE + m.body.length + p, pos);
    buf.writeInt32BE(0, pos + 4);
    buf.writeInt32BE(0, pos + 8);
    buf.writeInt32BE(m.flag | 0, pos + 12);
    buf.writeInt32BE(m.body.length, pos + 16);
    buf.set(m.body, pos + 20);
    pos += 20 + m.body.length;
    buf.writeInt16BE(p, pos);
    buf.write(m.properties, pos + 2, p, 'utf8');
    pos += 2 + p;
  }
  return buf;
}
