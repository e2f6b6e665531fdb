/**
 * The message record (remoting.md §6.1, broker-internals.md §1.3): the one layout used for
 * CommitLog storage and for every message-carrying response body (pull, query, view, tx check).
 *
 * We always write v1 magic, a 1-byte topic length and 8-byte IPv4 hosts, the only form every
 * client reads. The readers also accept what a Java broker may produce (v2 magic with a 2-byte
 * topic length, 20-byte IPv6 hosts flagged in sysFlag), so our client can decode its pulls.
 */
import { crc32 } from './crc32';
import { RecordError } from './errors';
import {
  type HostAddress,
  IPV4_HOST_LENGTH,
  IPV6_HOST_LENGTH,
  hostIPv4,
  readHost,
  readHostV6,
  writeHostIPv4,
} from './host';
import { readInt64BE, writeInt64BE } from './int64';
import { decodeProperties } from './properties';
import { MessageSysFlag } from './sysflag';

export { RecordError } from './errors';

/** 0xDAA320A7 as a signed int32. */
export const MAGIC_V1 = -626843481;
/** 0xDAA320AB as a signed int32 (RocketMQ 5.x: 2-byte topic length). */
export const MAGIC_V2 = -626843477;
/** 0xCBD43194 as a signed int32: `[int32 length][BLANK_MAGIC]` pads the end of a CommitLog file. */
export const BLANK_MAGIC = -875286124;
/** Length of the blank filler a CommitLog file ends with at least (`END_FILE_MIN_BLANK_LENGTH`). */
export const BLANK_LENGTH = 8;
/** Record size without body, topic and properties (v1 magic, IPv4 hosts). */
export const RECORD_FIXED_SIZE = 91;
export const MAX_TOPIC_LENGTH = 127;
export const MAX_PROPERTIES_LENGTH = 32767;

/** Field offsets inside a record with IPv4 hosts (ours always; from BORN_HOST on they move by 12 per IPv6 host). */
export const RecordOffset = {
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
} as const;

/** A decoded record. int64 fields are numbers (offsets and times stay below 2^53). */
export interface MessageRecord {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  bodyCrc: number;
  body: Buffer;
  properties: Map<string, string>;
  /** TOTALSIZE: bytes the record occupies. */
  size: number;
}

/** What a writer supplies; TOTALSIZE, magic and BODYCRC are computed. */
export interface RecordToEncode {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  /** Stored as given except the v6 host bits, which are cleared (hosts are always IPv4). */
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer;
  /** Already encoded (see `encodeProperties`). */
  properties: string;
  /** UTF-8 lengths of `topic` and `properties`, when the caller measured them already. */
  topicByteLength?: number;
  propertiesByteLength?: number;
}

const HOST_V6_BITS = MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6;

/** TOTALSIZE of a record we write (v1, IPv4 hosts), from byte lengths. */
export function recordSize(
  bodyLength: number,
  topicByteLength: number,
  propertiesByteLength: number,
): number {
  return RECORD_FIXED_SIZE + bodyLength + topicByteLength + propertiesByteLength;
}

/**
 * Encodes a record into one new buffer of exactly its size, computing TOTALSIZE and BODYCRC.
 * Throws RecordError for a topic over 127 bytes, properties over 32767 bytes or a non-IPv4 host.
 */
export function encodeRecord(r: RecordToEncode): Buffer {
  const topicLength = r.topicByteLength ?? Buffer.byteLength(r.topic, 'utf8');
  const propertiesLength = r.propertiesByteLength ?? Buffer.byteLength(r.properties, 'utf8');
  checkLengths(topicLength, propertiesLength);
  // Every byte is written, so the unzeroed (pooled for small sizes) allocation is safe.
  const buf = Buffer.allocUnsafe(recordSize(r.body.length, topicLength, propertiesLength));
  writeRecord(r, topicLength, propertiesLength, buf, 0);
  return buf;
}

/**
 * Encodes a record at `pos` in `target` (so a writer can encode straight into a batch buffer)
 * and returns its size; throws RecordError as {@link encodeRecord} does, or when it does not fit.
 */
export function encodeRecordInto(r: RecordToEncode, target: Buffer, pos: number): number {
  const topicLength = r.topicByteLength ?? Buffer.byteLength(r.topic, 'utf8');
  const propertiesLength = r.propertiesByteLength ?? Buffer.byteLength(r.properties, 'utf8');
  checkLengths(topicLength, propertiesLength);
  return writeRecord(r, topicLength, propertiesLength, target, pos);
}

function checkLengths(topicLength: number, propertiesLength: number): void {
  if (topicLength > MAX_TOPIC_LENGTH) {
    throw new RecordError(`topic is ${topicLength} bytes, more than ${MAX_TOPIC_LENGTH}`);
  }
  if (propertiesLength > MAX_PROPERTIES_LENGTH) {
    throw new RecordError(
      `properties are ${propertiesLength} bytes, more than ${MAX_PROPERTIES_LENGTH}`,
    );
  }
}

/** Writes a record whose lengths were checked at `pos`; returns its size. */
function writeRecord(
  r: RecordToEncode,
  topicLength: number,
  propertiesLength: number,
  buf: Buffer,
  pos: number,
): number {
  const body = r.body;
  const bodyLength = body.length;
  // Everything that can throw happens before the first write, so a failure never leaves a
  // half-written record in `buf`.
  const bornIp = hostIPv4(r.bornHost);
  const storeIp = hostIPv4(r.storeHost);
  const size = RECORD_FIXED_SIZE + bodyLength + topicLength + propertiesLength;
  if (!Number.isInteger(pos) || pos < 0 || pos + size > buf.length) {
    throw new RecordError(`a ${size}-byte record does not fit at ${pos} in ${buf.length}`);
  }
  buf.writeInt32BE(size, pos);
  buf.writeInt32BE(MAGIC_V1, pos + 4);
  buf.writeInt32BE(crc32(body), pos + 8);
  buf.writeInt32BE(r.queueId | 0, pos + 12);
  buf.writeInt32BE(r.flag | 0, pos + 16);
  writeInt64BE(buf, pos + 20, r.queueOffset);
  writeInt64BE(buf, pos + 28, r.physicalOffset);
  buf.writeInt32BE(r.sysFlag & ~HOST_V6_BITS, pos + 36);
  writeInt64BE(buf, pos + 40, r.bornTimestamp);
  writeHostIPv4(buf, pos + 48, bornIp, r.bornHost.port);
  writeInt64BE(buf, pos + 56, r.storeTimestamp);
  writeHostIPv4(buf, pos + 64, storeIp, r.storeHost.port);
  buf.writeInt32BE(r.reconsumeTimes | 0, pos + 72);
  writeInt64BE(buf, pos + 76, r.preparedTransactionOffset);
  buf.writeInt32BE(bodyLength, pos + 84);
  let p = pos + 88;
  buf.set(body, p);
  p += bodyLength;
  buf[p++] = topicLength;
  writeString(buf, p, r.topic, topicLength);
  p += topicLength;
  buf.writeInt16BE(propertiesLength, p);
  writeString(buf, p + 2, r.properties, propertiesLength);
  return size;
}

/**
 * Writes `s`, whose UTF-8 length is `byteLength`, at `pos`. A UTF-8 length equal to the UTF-16
 * length means pure ASCII, where a latin1 write gives the same bytes about twice as fast, and a
 * JS loop beats the native call for short strings such as topics.
 */
function writeString(buf: Buffer, pos: number, s: string, byteLength: number): void {
  if (byteLength !== s.length) buf.write(s, pos, byteLength, 'utf8');
  else if (byteLength > 32) buf.write(s, pos, byteLength, 'latin1');
  else for (let i = 0; i < byteLength; i++) buf[pos + i] = s.charCodeAt(i);
}

/**
 * Overwrites the fields the store assigns at append time, in place, in a record at `pos` (these
 * sit before the hosts, so their offsets are fixed).
 */
export function patchRecord(
  buf: Buffer,
  pos: number,
  fields: { queueOffset?: number; physicalOffset?: number; storeTimestamp?: number },
): void {
  if (fields.queueOffset !== undefined) writeInt64BE(buf, pos + 20, fields.queueOffset);
  if (fields.physicalOffset !== undefined) writeInt64BE(buf, pos + 28, fields.physicalOffset);
  if (fields.storeTimestamp !== undefined) {
    writeInt64BE(buf, pos + storeTimestampOffset(buf.readInt32BE(pos + 36)), fields.storeTimestamp);
  }
}

/** Offset of STORETIMESTAMP: after BORNHOST, which is 12 bytes longer when IPv6. */
function storeTimestampOffset(sysFlag: number): number {
  return sysFlag & MessageSysFlag.BORNHOST_V6 ? 68 : 56;
}

/** Offset of BODYLENGTH, which both hosts can push back. */
function bodyLengthOffset(sysFlag: number): number {
  return (
    84 +
    (sysFlag & MessageSysFlag.BORNHOST_V6 ? 12 : 0) +
    (sysFlag & MessageSysFlag.STOREHOST_V6 ? 12 : 0)
  );
}

/**
 * Where `measure` found the variable parts of the last record it accepted. Module scratch rather
 * than a returned object so validation allocates nothing; read it right after the call.
 */
const found = { bodyPos: 0, bodyLength: 0, topicPos: 0, topicLength: 0, propertiesPos: 0 };
let rejection = '';

/**
 * Walks a record's length fields without trusting any of them: returns its TOTALSIZE (> 0) and
 * fills `found`, 0 for a blank filler, or -1 (with `rejection` set) if the bytes at `pos` are not
 * a whole record ending at or before `limit`.
 */
function measure(buf: Buffer, pos: number, limit: number): number {
  if (limit > buf.length) limit = buf.length;
  if (!Number.isInteger(pos) || pos < 0 || limit - pos < BLANK_LENGTH) {
    return reject('fewer than 8 bytes');
  }
  const totalSize = buf.readInt32BE(pos);
  const magic = buf.readInt32BE(pos + 4);
  if (magic === BLANK_MAGIC) return 0;
  let topicLengthBytes: number;
  if (magic === MAGIC_V1) topicLengthBytes = 1;
  else if (magic === MAGIC_V2) topicLengthBytes = 2;
  else return reject(`bad magic ${magic}`);
  if (totalSize < RECORD_FIXED_SIZE || totalSize > limit - pos) {
    return reject(`TOTALSIZE ${totalSize} outside [${RECORD_FIXED_SIZE}, ${limit - pos}]`);
  }
  const end = pos + totalSize;
  const bodyLengthPos = pos + bodyLengthOffset(buf.readInt32BE(pos + 36));
  // Room for BODYLENGTH, TOPICLENGTH and PROPERTIESLENGTH with an empty body, topic, properties.
  const fixedTail = 4 + topicLengthBytes + 2;
  if (bodyLengthPos + fixedTail > end) return reject('too short for its hosts');
  const bodyLength = buf.readInt32BE(bodyLengthPos);
  if (bodyLength < 0 || bodyLength > end - bodyLengthPos - fixedTail) {
    return reject(`BODYLENGTH ${bodyLength} exceeds the record`);
  }
  const bodyPos = bodyLengthPos + 4;
  const topicLengthPos = bodyPos + bodyLength;
  const topicLength =
    topicLengthBytes === 1 ? buf.readInt8(topicLengthPos) : buf.readInt16BE(topicLengthPos);
  const topicPos = topicLengthPos + topicLengthBytes;
  if (topicLength < 0 || topicPos + topicLength + 2 > end) {
    return reject(`TOPICLENGTH ${topicLength} exceeds the record`);
  }
  const propertiesLengthPos = topicPos + topicLength;
  const propertiesLength = buf.readInt16BE(propertiesLengthPos);
  const propertiesPos = propertiesLengthPos + 2;
  if (propertiesLength < 0 || propertiesPos + propertiesLength !== end) {
    return reject(
      `field lengths add up to ${propertiesPos + propertiesLength - pos}, not ${totalSize}`,
    );
  }
  found.bodyPos = bodyPos;
  found.bodyLength = bodyLength;
  found.topicPos = topicPos;
  found.topicLength = topicLength;
  found.propertiesPos = propertiesPos;
  return totalSize;
}

function reject(reason: string): number {
  rejection = reason;
  return -1;
}

/**
 * Recovery/dispatch validation (broker-internals.md §3.3): the size (> 0) of a whole valid record
 * at `pos` — magic v1 (or v2 with a 2-byte topic length), TOTALSIZE within `limit − pos` and
 * equal to the length recomputed from the body, topic and properties lengths, and BODYCRC matching
 * when `checkCrc` — 0 if a blank filler starts there, -1 for anything else (torn, zeros, garbage).
 * Never throws.
 */
export function checkRecord(buf: Buffer, pos: number, limit: number, checkCrc: boolean): number {
  const size = measure(buf, pos, limit);
  if (size <= 0 || !checkCrc) return size;
  const start = found.bodyPos;
  return crc32(buf, start, start + found.bodyLength) === buf.readInt32BE(pos + 8) ? size : -1;
}

/**
 * Decodes the record at `pos`. Throws RecordError if it is not a whole well-formed record inside
 * `buf` (never reads past it); the body CRC is not checked (see `checkRecord`). The body is copied
 * unless `shareBody`, in which case it is a view into `buf`.
 */
export function decodeRecord(buf: Buffer, pos = 0, shareBody = false): MessageRecord {
  const size = measure(buf, pos, buf.length);
  if (size < 0) throw new RecordError(`malformed message record at ${pos}: ${rejection}`);
  if (size === 0) throw new RecordError(`blank filler, not a message record, at ${pos}`);
  const { bodyPos, bodyLength, topicPos, topicLength, propertiesPos } = found;
  const sysFlag = buf.readInt32BE(pos + 36);
  const bornV6 = (sysFlag & MessageSysFlag.BORNHOST_V6) !== 0;
  const storeHostPos = pos + (bornV6 ? 76 : 64);
  const afterStoreHost =
    storeHostPos + (sysFlag & MessageSysFlag.STOREHOST_V6 ? IPV6_HOST_LENGTH : IPV4_HOST_LENGTH);
  const bodyView = buf.subarray(bodyPos, bodyPos + bodyLength);
  return {
    size,
    bodyCrc: buf.readInt32BE(pos + 8),
    queueId: buf.readInt32BE(pos + 12),
    flag: buf.readInt32BE(pos + 16),
    queueOffset: readInt64BE(buf, pos + 20),
    physicalOffset: readInt64BE(buf, pos + 28),
    sysFlag,
    bornTimestamp: readInt64BE(buf, pos + 40),
    bornHost: bornV6 ? readHostV6(buf, pos + 48) : readHost(buf, pos + 48),
    storeTimestamp: readInt64BE(buf, storeHostPos - 8),
    storeHost:
      sysFlag & MessageSysFlag.STOREHOST_V6
        ? readHostV6(buf, storeHostPos)
        : readHost(buf, storeHostPos),
    reconsumeTimes: buf.readInt32BE(afterStoreHost),
    preparedTransactionOffset: readInt64BE(buf, afterStoreHost + 4),
    body: shareBody ? bodyView : Buffer.from(bodyView),
    topic: buf.toString('utf8', topicPos, topicPos + topicLength),
    properties: decodeProperties(buf.toString('utf8', propertiesPos, pos + size)),
  };
}

/**
 * Decodes records laid back to back filling `buf` (a pull, query or view body). Throws RecordError
 * if any part of it is not a record.
 */
export function decodeRecords(buf: Buffer, shareBody = false): MessageRecord[] {
  const records: MessageRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const record = decodeRecord(buf, pos, shareBody);
    records.push(record);
    pos += record.size;
  }
  return records;
}

// Cheap accessors for hot paths. They trust a record that `checkRecord` or the writer vouched
// for, and do no validation beyond Buffer's own bounds checks (a RangeError).

export function readTotalSize(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos);
}

export function readBodyCrc(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + 8);
}

export function readQueueId(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + 12);
}

export function readFlag(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + 16);
}

export function readQueueOffset(buf: Buffer, pos: number): number {
  return readInt64BE(buf, pos + 20);
}

export function readPhysicalOffset(buf: Buffer, pos: number): number {
  return readInt64BE(buf, pos + 28);
}

export function readSysFlag(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + 36);
}

export function readBornTimestamp(buf: Buffer, pos: number): number {
  return readInt64BE(buf, pos + 40);
}

export function readStoreTimestamp(buf: Buffer, pos: number): number {
  return readInt64BE(buf, pos + storeTimestampOffset(buf.readInt32BE(pos + 36)));
}

/** The body as a view into `buf` (no copy). */
export function readBody(buf: Buffer, pos: number): Buffer {
  const bodyLengthPos = pos + bodyLengthOffset(buf.readInt32BE(pos + 36));
  const bodyPos = bodyLengthPos + 4;
  return buf.subarray(bodyPos, bodyPos + buf.readInt32BE(bodyLengthPos));
}

/** Position of TOPICLENGTH (1 byte, or 2 with v2 magic). */
function topicLengthPos(buf: Buffer, pos: number): number {
  const bodyLengthPos = pos + bodyLengthOffset(buf.readInt32BE(pos + 36));
  return bodyLengthPos + 4 + buf.readInt32BE(bodyLengthPos);
}

export function readTopic(buf: Buffer, pos: number): string {
  const at = topicLengthPos(buf, pos);
  if (buf.readInt32BE(pos + 4) === MAGIC_V2) {
    return buf.toString('utf8', at + 2, at + 2 + buf.readInt16BE(at));
  }
  return buf.toString('utf8', at + 1, at + 1 + buf[at]);
}

/** The raw properties string (decode it with `decodeProperties` or query it with `getProperty`). */
export function readPropertiesString(buf: Buffer, pos: number): string {
  let at = topicLengthPos(buf, pos);
  at += buf.readInt32BE(pos + 4) === MAGIC_V2 ? 2 + buf.readInt16BE(at) : 1 + buf[at];
  const length = buf.readInt16BE(at);
  return buf.toString('utf8', at + 2, at + 2 + length);
}
