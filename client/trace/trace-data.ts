/**
 * Message trace records in RocketMQ's format (TraceDataEncoder, broker-internals.md §13.1):
 * fields joined by U+0001, each record terminated by U+0002; many records make one trace
 * message body.
 */

export const CONTENT_SPLITOR = '\u0001';
export const FIELD_SPLITOR = '\u0002';
/** The broker's default trace topic (`msgTraceTopicName`). */
export const TRACE_TOPIC = 'RMQ_SYS_TRACE_TOPIC';
/** Group prefix of the internal producer that writes trace messages. */
export const TRACE_PRODUCER_GROUP_PREFIX = '_INNER_TRACE_PRODUCER';
export const DEFAULT_REGION = 'DefaultRegion';

/** Java's MessageType ordinals. */
export const TraceMessageType = { Normal: 0, Trans: 1, Delay: 3 } as const;
/** Java's ConsumeReturnType ordinals (SubAfter contextCode). */
export const ConsumeReturnType = {
  SUCCESS: 0,
  TIME_OUT: 1,
  EXCEPTION: 2,
  RETURNNULL: 3,
  FAILED: 4,
};

export interface PubTrace {
  type: 'Pub';
  timestamp: number;
  regionId: string;
  group: string;
  topic: string;
  msgId: string;
  tags: string;
  keys: string;
  storeHost: string;
  bodyLength: number;
  costTime: number;
  msgType: number;
  offsetMsgId: string;
  success: boolean;
}

export interface SubBeforeTrace {
  type: 'SubBefore';
  timestamp: number;
  regionId: string;
  group: string;
  requestId: string;
  msgId: string;
  retryTimes: number;
  keys: string;
}

export interface SubAfterTrace {
  type: 'SubAfter';
  requestId: string;
  msgId: string;
  costTime: number;
  success: boolean;
  keys: string;
  contextCode: number;
  timestamp: number;
  group: string;
}

/** A transaction's outcome as its producer sent it. */
export interface EndTransactionTrace {
  type: 'EndTransaction';
  timestamp: number;
  regionId: string;
  group: string;
  topic: string;
  msgId: string;
  tags: string;
  keys: string;
  storeHost: string;
  msgType: number;
  transactionId: string;
  /** Java's LocalTransactionState name: COMMIT_MESSAGE, ROLLBACK_MESSAGE or UNKNOW. */
  transactionState: string;
  fromTransactionCheck: boolean;
}

export type TraceRecord = PubTrace | SubBeforeTrace | SubAfterTrace | EndTransactionTrace;

/** Java prints absent strings as "null"; so do we, so Java tools read our traces. */
const text = (s: string | undefined): string => (s === undefined || s === '' ? 'null' : s);

const FIELDS: { [K in TraceRecord['type']]: (keyof Extract<TraceRecord, { type: K }>)[] } = {
  Pub: [
    'type',
    'timestamp',
    'regionId',
    'group',
    'topic',
    'msgId',
    'tags',
    'keys',
    'storeHost',
    'bodyLength',
    'costTime',
    'msgType',
    'offsetMsgId',
    'success',
  ],
  SubBefore: ['type', 'timestamp', 'regionId', 'group', 'requestId', 'msgId', 'retryTimes', 'keys'],
  EndTransaction: [
    'type',
    'timestamp',
    'regionId',
    'group',
    'topic',
    'msgId',
    'tags',
    'keys',
    'storeHost',
    'msgType',
    'transactionId',
    'transactionState',
    'fromTransactionCheck',
  ],
  SubAfter: [
    'type',
    'requestId',
    'msgId',
    'costTime',
    'success',
    'keys',
    'contextCode',
    'timestamp',
    'group',
  ],
};

export function encodeTraceRecord(record: TraceRecord): string {
  const names = FIELDS[record.type] as (keyof TraceRecord)[];
  const values = names.map((name) => {
    const value = record[name] as string | number | boolean | undefined;
    return typeof value === 'string' || value === undefined ? text(value) : String(value);
  });
  return values.join(CONTENT_SPLITOR) + FIELD_SPLITOR;
}

/**
 * The records of a trace message body. Records of other types (5.3's Recall) and malformed
 * ones are skipped, so a body from a newer client still yields what we know.
 */
export function decodeTraceRecords(body: string): TraceRecord[] {
  const records: TraceRecord[] = [];
  for (const raw of body.split(FIELD_SPLITOR)) {
    const f = raw.split(CONTENT_SPLITOR);
    const type = f[0];
    if (type === 'Pub' && f.length >= 13) {
      records.push({
        type,
        timestamp: Number(f[1]),
        regionId: f[2],
        group: f[3],
        topic: f[4],
        msgId: f[5],
        tags: f[6],
        keys: f[7],
        storeHost: f[8],
        bodyLength: Number(f[9]),
        costTime: Number(f[10]),
        msgType: Number(f[11]),
        offsetMsgId: f[12],
        success: f[13] !== 'false',
      });
    } else if (type === 'SubBefore' && f.length >= 8) {
      records.push({
        type,
        timestamp: Number(f[1]),
        regionId: f[2],
        group: f[3],
        requestId: f[4],
        msgId: f[5],
        retryTimes: Number(f[6]),
        keys: f[7],
      });
    } else if (type === 'EndTransaction' && f.length >= 13) {
      records.push({
        type,
        timestamp: Number(f[1]),
        regionId: f[2],
        group: f[3],
        topic: f[4],
        msgId: f[5],
        tags: f[6],
        keys: f[7],
        storeHost: f[8],
        msgType: Number(f[9]),
        transactionId: f[10],
        transactionState: f[11],
        fromTransactionCheck: f[12] === 'true',
      });
    } else if (type === 'SubAfter' && f.length >= 6) {
      records.push({
        type,
        requestId: f[1],
        msgId: f[2],
        costTime: Number(f[3]),
        success: f[4] === 'true',
        keys: f[5],
        contextCode: Number(f[6] ?? 0),
        timestamp: Number(f[7] ?? 0),
        group: f[8] ?? 'null',
      });
    }
  }
  return records;
}
