/**
 * The message properties string (remoting.md §6.4, §6.8):
 * `name U+0001 value U+0002` repeated, every pair terminated by U+0002 including the last.
 */
import { RecordError } from './errors';

export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';

/** Well-known property names (RocketMQ `MessageConst`); keys are the wire names where possible. */
export const MessageConst = {
  KEYS: 'KEYS',
  TAGS: 'TAGS',
  /** `"false"`: reply without waiting for flush / replication. */
  WAIT: 'WAIT',
  /** Delay level 1..18. */
  DELAY: 'DELAY',
  RETRY_TOPIC: 'RETRY_TOPIC',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QID: 'REAL_QID',
  /** `"true"` on transactional half (prepared) messages. */
  TRAN_MSG: 'TRAN_MSG',
  PGROUP: 'PGROUP',
  /** Added client-side from the pull response; never stored. */
  MIN_OFFSET: 'MIN_OFFSET',
  MAX_OFFSET: 'MAX_OFFSET',
  BUYER_ID: 'BUYER_ID',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  TRANSFER_FLAG: 'TRANSFER_FLAG',
  CORRECTION_FLAG: 'CORRECTION_FLAG',
  MQ2_FLAG: 'MQ2_FLAG',
  RECONSUME_TIME: 'RECONSUME_TIME',
  MSG_REGION: 'MSG_REGION',
  TRACE_ON: 'TRACE_ON',
  /** Client message id (remoting.md §6.7). */
  UNIQ_KEY: 'UNIQ_KEY',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  CONSUME_START_TIME: 'CONSUME_START_TIME',
  TRAN_PREPARED_QUEUE_OFFSET: 'TRAN_PREPARED_QUEUE_OFFSET',
  TRANSACTION_CHECK_TIMES: 'TRANSACTION_CHECK_TIMES',
  CHECK_IMMUNITY_TIME_IN_SECONDS: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  TRANSACTION_ID: '__transactionId__',
  INSTANCE_ID: 'INSTANCE_ID',
  CORRELATION_ID: 'CORRELATION_ID',
  REPLY_TO_CLIENT: 'REPLY_TO_CLIENT',
  TTL: 'TTL',
  ARRIVE_TIME: 'ARRIVE_TIME',
  PUSH_REPLY_TIME: 'PUSH_REPLY_TIME',
  CLUSTER: 'CLUSTER',
  /** `MSG_TYPE` = `reply` marks a request/reply answer. */
  MSG_TYPE: 'MSG_TYPE',
  INNER_MULTI_DISPATCH: 'INNER_MULTI_DISPATCH',
  INNER_MULTI_QUEUE_OFFSET: 'INNER_MULTI_QUEUE_OFFSET',
  /** Java 5.x client-side sharding key. */
  SHARDING_KEY: '__SHARDINGKEY',
  /** ali-ons client-side sharding key. */
  ONS_SHARDING_KEY: '__SHARDING_KEY',
  /** ali-ons `setStartDeliverTime` (Aliyun timer; Apache 4.x ignores it). */
  START_DELIVER_TIME: '__STARTDELIVERTIME',
  TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
  TIMER_DELAY_SEC: 'TIMER_DELAY_SEC',
  TIMER_DELAY_MS: 'TIMER_DELAY_MS',
  TIMER_OUT_MS: 'TIMER_OUT_MS',
  INNER_NUM: 'INNER_NUM',
  INNER_BASE: 'INNER_BASE',
  /** Optional whole-record CRC (`enabledAppendPropCRC`, 5.x). */
  CRC32: '__CRC32#',
} as const;

/** The `MSG_TYPE` value of a reply message. */
export const REPLY_MESSAGE_TYPE = 'reply';

/**
 * Encodes properties; pairs with an empty name or value are skipped (Java's parser would drop
 * them anyway). Throws RecordError if a name contains U+0001/U+0002 or a value contains U+0002,
 * which would corrupt the string (a U+0001 inside a value is fine: parsers split at the first).
 */
export function encodeProperties(
  props: ReadonlyMap<string, string> | Record<string, string>,
): string {
  let s = '';
  if (props instanceof Map) {
    for (const [name, value] of props as ReadonlyMap<string, string>) s += pair(name, value);
  } else {
    const rec = props as Record<string, string>;
    for (const name in rec) s += pair(name, rec[name]);
  }
  return s;
}

function pair(name: string, value: string): string {
  if (!name || !value) return '';
  if (
    name.includes(NAME_VALUE_SEPARATOR) ||
    name.includes(PROPERTY_SEPARATOR) ||
    value.includes(PROPERTY_SEPARATOR)
  ) {
    throw new RecordError(`property ${JSON.stringify(name)} contains a separator character`);
  }
  return name + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR;
}

/**
 * Parses a properties string with Java's rules (`MessageDecoder.string2messageProperties`): split
 * on U+0002 (a missing final separator is fine), split each item at its first U+0001, and keep it
 * only if both name and value are non-empty; a repeated name keeps the last value.
 */
export function decodeProperties(s: string): Map<string, string> {
  const map = new Map<string, string>();
  const len = s.length;
  let start = 0;
  while (start < len) {
    let end = s.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = len;
    if (end - start >= 3) {
      const sep = s.indexOf(NAME_VALUE_SEPARATOR, start);
      if (sep > start && sep < end - 1) map.set(s.slice(start, sep), s.slice(sep + 1, end));
    }
    start = end + 1;
  }
  return map;
}

/**
 * The value of one property read straight from the encoded string, with the same rules as
 * {@link decodeProperties} (last valid occurrence wins), without building a map: for hot paths
 * that need only TAGS, KEYS or UNIQ_KEY.
 */
export function getProperty(s: string, name: string): string | undefined {
  let found: string | undefined;
  const len = s.length;
  const nameLen = name.length;
  if (nameLen === 0) return undefined;
  let start = 0;
  while (start < len) {
    let end = s.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = len;
    const sep = start + nameLen;
    // A name without U+0001 matching at `start` puts the item's first U+0001 exactly at `sep`.
    if (sep < end - 1 && s.charCodeAt(sep) === 1 && s.startsWith(name, start)) {
      found = s.slice(sep + 1, end);
    }
    start = end + 1;
  }
  return found;
}

/**
 * Concatenates two encoded property strings the way the broker merges a batch's inner and
 * batch-level properties (remoting.md §6.5): a U+0002 is inserted only when both are non-empty and
 * the first does not already end with one.
 */
export function appendProperties(encoded: string, extra: string): string {
  if (encoded.length === 0) return extra;
  if (extra.length === 0) return encoded;
  return encoded.endsWith(PROPERTY_SEPARATOR)
    ? encoded + extra
    : encoded + PROPERTY_SEPARATOR + extra;
}
