/**
 * Messages as users see them: what a producer sends and what a consumer receives, and their
 * conversion to and from the wire (properties string §6.4, records §6.1, compression §6.6).
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { createOffsetMsgId } from '../common/message/message-id';
import { decodeRecords, type MessageRecord } from '../common/message/record';
import {
  encodeProperties,
  MessageConst,
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
} from '../common/message/properties';
import { MessageSysFlag } from '../common/message/sysflag';

export interface Message {
  topic: string;
  body: Buffer | string;
  /** One tag; consumers subscribe by tag (`"TagA || TagB"`). */
  tags?: string;
  /** Business keys, indexed by the broker for `queryMsgByKey`. */
  keys?: string | readonly string[];
  /** A user flag stored with the message. */
  flag?: number;
  /** Delay level 1..18 (1s 5s 10s 30s 1m … 2h); 0 or absent delivers at once. */
  delayTimeLevel?: number;
  /** User properties (names must not be system property names). */
  properties?: Readonly<Record<string, string>>;
}

/** A received message: the stored record plus the ids and decoded fields users need. */
export interface MessageExt extends MessageRecord {
  /** The client id (UNIQ_KEY) when the producer set one, else the offsetMsgId. */
  msgId: string;
  /** The broker's id: store host and commit-log offset, usable with VIEW_MESSAGE_BY_ID. */
  offsetMsgId: string;
  brokerName: string;
  tags?: string;
  keys?: string;
}

/** What a send returns. */
export interface SendResult {
  /** SEND_OK, or a stored-but-degraded status (flush or slave timeout). */
  sendStatus: 'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';
  /** The UNIQ_KEY (comma-joined for a batch). */
  msgId: string;
  offsetMsgId: string;
  messageQueue: { topic: string; brokerName: string; queueId: number };
  queueOffset: number;
}

export const COMPRESS_OVER_BYTES = 4096;
/** zlib level the Java client uses (`rocketmq.message.compressLevel`). */
const COMPRESS_LEVEL = 5;

export function bodyBuffer(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

export function keysString(keys: Message['keys']): string | undefined {
  if (keys === undefined) return undefined;
  const joined = typeof keys === 'string' ? keys : keys.join(' ');
  return joined.length > 0 ? joined : undefined;
}

/**
 * The property map a message is sent with, UNIQ_KEY included; `WAIT` (reply after the store
 * has the message) is set on single messages, and on the batch rather than its entries.
 */
export function messageProperties(msg: Message, uniqKey: string, wait = true): Map<string, string> {
  const props = new Map<string, string>();
  for (const [name, value] of Object.entries(msg.properties ?? {})) props.set(name, value);
  const keys = keysString(msg.keys);
  if (keys) props.set(MessageConst.KEYS, keys);
  if (msg.tags) props.set(MessageConst.TAGS, msg.tags);
  if (msg.delayTimeLevel && msg.delayTimeLevel > 0) {
    props.set(MessageConst.DELAY, String(msg.delayTimeLevel));
  }
  if (wait) props.set(MessageConst.WAIT, 'true');
  props.set(MessageConst.UNIQ_KEY, uniqKey);
  return props;
}

/**
 * `encodeProperties(messageProperties(msg, uniqKey, wait))`, without the map for the common
 * message that carries nothing but its id (a batch encodes one per message).
 */
export function encodeMessageProperties(msg: Message, uniqKey: string, wait = true): string {
  if (msg.properties === undefined && msg.keys === undefined && !msg.tags && !msg.delayTimeLevel) {
    const id = `${MessageConst.UNIQ_KEY}${NAME_VALUE_SEPARATOR}${uniqKey}${PROPERTY_SEPARATOR}`;
    return wait ? `${MessageConst.WAIT}${NAME_VALUE_SEPARATOR}true${PROPERTY_SEPARATOR}${id}` : id;
  }
  return encodeProperties(messageProperties(msg, uniqKey, wait));
}

/** The body to send and the sysFlag bits it needs: zlib over the threshold, as Java 4.9.8. */
export function compressIfLarge(
  body: Buffer,
  overBytes = COMPRESS_OVER_BYTES,
): { body: Buffer; sysFlag: number } {
  if (body.length < overBytes) return { body, sysFlag: 0 };
  return {
    body: deflateSync(body, { level: COMPRESS_LEVEL }),
    sysFlag: MessageSysFlag.COMPRESSED | MessageSysFlag.COMPRESSION_ZLIB_TYPE,
  };
}

/** The stored body as the producer gave it; LZ4/ZSTD bodies (Java producers) cannot be read. */
function uncompressedBody(record: MessageRecord): Buffer {
  if ((record.sysFlag & MessageSysFlag.COMPRESSED) === 0) return record.body;
  const type = record.sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK;
  if (type !== 0 && type !== MessageSysFlag.COMPRESSION_ZLIB_TYPE) {
    throw new Error(`message body compressed with unsupported type 0x${type.toString(16)}`);
  }
  return inflateSync(record.body);
}

export function toMessageExt(record: MessageRecord, brokerName: string): MessageExt {
  const offsetMsgId = createOffsetMsgId(record.storeHost, record.physicalOffset);
  const { properties } = record;
  // Every field written out: a spread followed by new keys takes V8's slow path, about 7 µs a
  // message, which bounded a consumer's catch-up at 30 MB/s.
  return {
    topic: record.topic,
    queueId: record.queueId,
    flag: record.flag,
    queueOffset: record.queueOffset,
    physicalOffset: record.physicalOffset,
    sysFlag: record.sysFlag,
    bornTimestamp: record.bornTimestamp,
    bornHost: record.bornHost,
    storeTimestamp: record.storeTimestamp,
    storeHost: record.storeHost,
    reconsumeTimes: record.reconsumeTimes,
    preparedTransactionOffset: record.preparedTransactionOffset,
    bodyCrc: record.bodyCrc,
    body: uncompressedBody(record),
    properties,
    size: record.size,
    msgId: properties.get(MessageConst.UNIQ_KEY) ?? offsetMsgId,
    offsetMsgId,
    brokerName,
    tags: properties.get(MessageConst.TAGS),
    keys: properties.get(MessageConst.KEYS),
  };
}

/** Decodes a pull/query/view body into messages. */
export function decodeMessages(body: Buffer | undefined, brokerName: string): MessageExt[] {
  if (!body || body.length === 0) return [];
  return decodeRecords(body).map((r) => toMessageExt(r, brokerName));
}
