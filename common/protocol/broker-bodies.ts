import { javaStringHash } from '../message/java-hash';
import { parseLenientJson } from '../json';
import { ResponseCode } from './codes';
import { type DataVersion, decodeJsonBody } from './bodies';
import { RemotingError } from './errors';

/**
 * JSON bodies of the broker commands (`shared/spec/remoting.md` §5.3, §5.5, §5.7): typed shapes,
 * validating decoders (a bad body is a SYSTEM_ERROR with a message naming the field) and
 * encoders. MessageQueue-keyed maps travel in fastjson's object-key form (§5.1), which
 * `JSON.stringify`/`JSON.parse` cannot write or read; `encodeMessageQueueMap` and
 * `parseFastjson` handle it.
 */

// ---------------------------------------------------------------- shapes

export interface MessageQueue {
  brokerName: string;
  queueId: number;
  topic: string;
}

export type ExpressionType = 'TAG' | 'SQL92';

export interface SubscriptionData {
  classFilterMode: boolean;
  /** Java `String.hashCode()` of each tag. */
  codeSet: number[];
  expressionType: string;
  /** `*`, `tagA || tagB`, or an SQL92 expression. */
  subString: string;
  subVersion: number;
  tagsSet: string[];
  topic: string;
}

export type ConsumeType = 'CONSUME_ACTIVELY' | 'CONSUME_PASSIVELY';
export type MessageModel = 'BROADCASTING' | 'CLUSTERING';

export interface ConsumerData {
  consumeFromWhere: string;
  consumeType: string;
  groupName: string;
  messageModel: string;
  subscriptionDataSet: SubscriptionData[];
  unitMode: boolean;
}

export interface ProducerData {
  groupName: string;
}

export interface HeartbeatData {
  clientID: string;
  consumerDataSet: ConsumerData[];
  producerDataSet: ProducerData[];
}

export interface ConsumerListBody {
  consumerIdList: string[];
}

/** LOCK_BATCH_MQ and UNLOCK_BATCH_MQ request body (§5.5). */
export interface LockBatchRequestBody {
  clientId: string;
  consumerGroup: string;
  mqSet: MessageQueue[];
}

export type UnlockBatchRequestBody = LockBatchRequestBody;

export interface LockBatchResponseBody {
  lockOKMQSet: MessageQueue[];
}

export interface CheckClientRequestBody {
  clientId: string;
  group: string;
  subscriptionData: SubscriptionData;
}

export interface SubscriptionGroupConfig {
  brokerId: number;
  consumeBroadcastEnable: boolean;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  groupName: string;
  notifyConsumerIdsChangedEnable: boolean;
  retryMaxTimes: number;
  retryQueueNums: number;
  whichBrokerWhenConsumeSlowly: number;
}

export interface SubscriptionGroupWrapper {
  dataVersion: DataVersion;
  subscriptionGroupTable: Record<string, SubscriptionGroupConfig>;
}

/** One client connection as the admin connection lists show it. */
export interface ConnectionInfo {
  clientAddr: string;
  clientId: string;
  language: string;
  version: number;
}

export interface ConsumerConnection {
  connectionSet: ConnectionInfo[];
  consumeFromWhere: string;
  consumeType: string;
  messageModel: string;
  subscriptionTable: Record<string, SubscriptionData>;
}

export interface ProducerConnection {
  connectionSet: ConnectionInfo[];
}

export interface OffsetWrapper {
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
}

export interface ConsumeStats {
  consumeTps: number;
  offsetTable: Map<MessageQueue, OffsetWrapper>;
}

export interface TopicOffset {
  lastUpdateTimestamp: number;
  maxOffset: number;
  minOffset: number;
}

export interface TopicStatsTable {
  offsetTable: Map<MessageQueue, TopicOffset>;
}

export interface ResetOffsetBody {
  offsetTable: Map<MessageQueue, number>;
}

export interface GroupList {
  groupList: string[];
}

// ---------------------------------------------------------------- validation helpers

function shapeError(what: string, problem: string): RemotingError {
  return new RemotingError(ResponseCode.SYSTEM_ERROR, `${what}: ${problem}`);
}

function record(v: unknown, what: string, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw shapeError(what, `${path} is not an object`);
  }
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string, path: string, fallback?: string): string {
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  if (typeof v !== 'string') throw shapeError(what, `${path} is not a string`);
  return v;
}

function num(v: unknown, what: string, path: string, fallback?: number): number {
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw shapeError(what, `${path} is not a number`);
  }
  return n;
}

function bool(v: unknown, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  return v === true || v === 'true';
}

function list(v: unknown, what: string, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw shapeError(what, `${path} is not an array`);
  return v;
}

function decodeMessageQueue(v: unknown, what: string, path: string): MessageQueue {
  const r = record(v, what, path);
  return {
    brokerName: str(r.brokerName, what, `${path}.brokerName`),
    queueId: num(r.queueId, what, `${path}.queueId`),
    topic: str(r.topic, what, `${path}.topic`),
  };
}

function decodeSubscriptionData(v: unknown, what: string, path: string): SubscriptionData {
  const r = record(v, what, path);
  return {
    classFilterMode: bool(r.classFilterMode, false),
    codeSet: list(r.codeSet, what, `${path}.codeSet`).map((c, i) =>
      num(c, what, `${path}.codeSet[${i}]`),
    ),
    // ali-ons omits expressionType for tag subscriptions (§5.3).
    expressionType: str(r.expressionType, what, `${path}.expressionType`, 'TAG'),
    subString: str(r.subString, what, `${path}.subString`, '*'),
    subVersion: num(r.subVersion, what, `${path}.subVersion`, 0),
    tagsSet: list(r.tagsSet, what, `${path}.tagsSet`).map((t, i) =>
      str(t, what, `${path}.tagsSet[${i}]`),
    ),
    topic: str(r.topic, what, `${path}.topic`),
  };
}

// ---------------------------------------------------------------- subscriptions

export const SUB_ALL = '*';

/**
 * A tag subscription as `FilterAPI.buildSubscriptionData` builds it (§5.3): empty or `*` means
 * all; otherwise the `||`-separated tags, trimmed, empties dropped, with their Java hash codes.
 */
export function buildSubscriptionData(
  topic: string,
  subString: string | undefined,
  subVersion = Date.now(),
  expressionType = 'TAG',
): SubscriptionData {
  const sub: SubscriptionData = {
    classFilterMode: false,
    codeSet: [],
    expressionType,
    subString: SUB_ALL,
    subVersion,
    tagsSet: [],
    topic,
  };
  if (expressionType !== 'TAG') {
    sub.subString = subString ?? '';
    return sub;
  }
  const expression = (subString ?? '').trim();
  if (expression === '' || expression === SUB_ALL) return sub;
  sub.subString = expression;
  for (const tag of expression.split('||')) {
    const trimmed = tag.trim();
    if (trimmed === '' || sub.tagsSet.includes(trimmed)) continue;
    sub.tagsSet.push(trimmed);
    sub.codeSet.push(javaStringHash(trimmed));
  }
  return sub;
}

// ---------------------------------------------------------------- decoders

export function decodeHeartbeatData(body: Buffer | undefined): HeartbeatData {
  const what = 'HeartbeatData';
  const root = record(decodeJsonBody(body, what), what, 'body');
  return {
    clientID: str(root.clientID, what, 'clientID'),
    consumerDataSet: list(root.consumerDataSet, what, 'consumerDataSet').map((c, i) => {
      const path = `consumerDataSet[${i}]`;
      const r = record(c, what, path);
      return {
        consumeFromWhere: str(
          r.consumeFromWhere,
          what,
          `${path}.consumeFromWhere`,
          'CONSUME_FROM_LAST_OFFSET',
        ),
        consumeType: str(r.consumeType, what, `${path}.consumeType`, 'CONSUME_PASSIVELY'),
        groupName: str(r.groupName, what, `${path}.groupName`),
        messageModel: str(r.messageModel, what, `${path}.messageModel`, 'CLUSTERING'),
        subscriptionDataSet: list(r.subscriptionDataSet, what, `${path}.subscriptionDataSet`).map(
          (s, j) => decodeSubscriptionData(s, what, `${path}.subscriptionDataSet[${j}]`),
        ),
        unitMode: bool(r.unitMode, false),
      };
    }),
    producerDataSet: list(root.producerDataSet, what, 'producerDataSet').map((p, i) => ({
      groupName: str(record(p, what, `producerDataSet[${i}]`).groupName, what, 'groupName'),
    })),
  };
}

export function decodeConsumerListBody(body: Buffer | undefined): ConsumerListBody {
  const what = 'GetConsumerListByGroupResponseBody';
  const root = record(decodeJsonBody(body, what), what, 'body');
  return {
    consumerIdList: list(root.consumerIdList, what, 'consumerIdList').map((id, i) =>
      str(id, what, `consumerIdList[${i}]`),
    ),
  };
}

/** LockBatchRequestBody or UnlockBatchRequestBody. */
export function decodeLockBatchRequestBody(body: Buffer | undefined): LockBatchRequestBody {
  const what = 'LockBatchRequestBody';
  const root = record(decodeJsonBody(body, what), what, 'body');
  return {
    clientId: str(root.clientId, what, 'clientId'),
    consumerGroup: str(root.consumerGroup, what, 'consumerGroup'),
    mqSet: list(root.mqSet, what, 'mqSet').map((mq, i) =>
      decodeMessageQueue(mq, what, `mqSet[${i}]`),
    ),
  };
}

export function decodeLockBatchResponseBody(body: Buffer | undefined): LockBatchResponseBody {
  const what = 'LockBatchResponseBody';
  const root = record(decodeJsonBody(body, what), what, 'body');
  return {
    lockOKMQSet: list(root.lockOKMQSet, what, 'lockOKMQSet').map((mq, i) =>
      decodeMessageQueue(mq, what, `lockOKMQSet[${i}]`),
    ),
  };
}

export function decodeCheckClientRequestBody(body: Buffer | undefined): CheckClientRequestBody {
  const what = 'CheckClientRequestBody';
  const root = record(decodeJsonBody(body, what), what, 'body');
  return {
    clientId: str(root.clientId, what, 'clientId', ''),
    group: str(root.group, what, 'group'),
    subscriptionData: decodeSubscriptionData(root.subscriptionData, what, 'subscriptionData'),
  };
}

/** The defaults of SubscriptionGroupConfig (§5.7) for `groupName`. */
export function defaultSubscriptionGroupConfig(groupName: string): SubscriptionGroupConfig {
  return {
    brokerId: 0,
    consumeBroadcastEnable: true,
    consumeEnable: true,
    consumeFromMinEnable: true,
    groupName,
    notifyConsumerIdsChangedEnable: true,
    retryMaxTimes: 16,
    retryQueueNums: 1,
    whichBrokerWhenConsumeSlowly: 1,
  };
}

/** A SubscriptionGroupConfig object (body of 200, entries of subscriptionGroup.json). */
export function toSubscriptionGroupConfig(
  v: unknown,
  what = 'SubscriptionGroupConfig',
): SubscriptionGroupConfig {
  const r = record(v, what, 'subscriptionGroupConfig');
  const d = defaultSubscriptionGroupConfig(str(r.groupName, what, 'groupName'));
  return {
    brokerId: num(r.brokerId, what, 'brokerId', d.brokerId),
    consumeBroadcastEnable: bool(r.consumeBroadcastEnable, d.consumeBroadcastEnable),
    consumeEnable: bool(r.consumeEnable, d.consumeEnable),
    consumeFromMinEnable: bool(r.consumeFromMinEnable, d.consumeFromMinEnable),
    groupName: d.groupName,
    notifyConsumerIdsChangedEnable: bool(
      r.notifyConsumerIdsChangedEnable,
      d.notifyConsumerIdsChangedEnable,
    ),
    retryMaxTimes: num(r.retryMaxTimes, what, 'retryMaxTimes', d.retryMaxTimes),
    retryQueueNums: num(r.retryQueueNums, what, 'retryQueueNums', d.retryQueueNums),
    whichBrokerWhenConsumeSlowly: num(
      r.whichBrokerWhenConsumeSlowly,
      what,
      'whichBrokerWhenConsumeSlowly',
      d.whichBrokerWhenConsumeSlowly,
    ),
  };
}

export function decodeSubscriptionGroupConfig(body: Buffer | undefined): SubscriptionGroupConfig {
  return toSubscriptionGroupConfig(decodeJsonBody(body, 'SubscriptionGroupConfig'));
}

// ---------------------------------------------------------------- fastjson object-key maps

/** `{"brokerName":…,"queueId":…,"topic":…}`, keys in fastjson's alphabetical order. */
export function messageQueueJson(mq: MessageQueue): string {
  return JSON.stringify({ brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic });
}

/** `{{mq}:value,…}`: a MessageQueue-keyed map as fastjson writes it (§5.1). */
export function encodeMessageQueueMap<V>(map: ReadonlyMap<MessageQueue, V>): string {
  const parts: string[] = [];
  for (const [mq, value] of map) parts.push(`${messageQueueJson(mq)}:${JSON.stringify(value)}`);
  return `{${parts.join(',')}}`;
}

/** ConsumeStats (208) in fastjson's form. */
export function encodeConsumeStats(stats: ConsumeStats): Buffer {
  const table = new Map<MessageQueue, OffsetWrapper>();
  for (const [mq, o] of stats.offsetTable) {
    table.set(mq, {
      brokerOffset: o.brokerOffset,
      consumerOffset: o.consumerOffset,
      lastTimestamp: o.lastTimestamp,
    });
  }
  const tps = Number.isInteger(stats.consumeTps)
    ? stats.consumeTps.toFixed(1)
    : String(stats.consumeTps);
  return Buffer.from(`{"consumeTps":${tps},"offsetTable":${encodeMessageQueueMap(table)}}`, 'utf8');
}

/** TopicStatsTable (202) in fastjson's form. */
export function encodeTopicStatsTable(stats: TopicStatsTable): Buffer {
  const table = new Map<MessageQueue, TopicOffset>();
  for (const [mq, o] of stats.offsetTable) {
    table.set(mq, {
      lastUpdateTimestamp: o.lastUpdateTimestamp,
      maxOffset: o.maxOffset,
      minOffset: o.minOffset,
    });
  }
  return Buffer.from(`{"offsetTable":${encodeMessageQueueMap(table)}}`, 'utf8');
}

/** ResetOffsetBody (220/222) in fastjson's form. */
export function encodeResetOffsetBody(body: ResetOffsetBody): Buffer {
  return Buffer.from(`{"offsetTable":${encodeMessageQueueMap(body.offsetTable)}}`, 'utf8');
}

/**
 * Parses fastjson output, including maps whose keys are objects or unquoted numbers. An object
 * key becomes the key string `JSON.stringify(key)`; read it back with `JSON.parse`.
 */
export function parseFastjson(text: string): unknown {
  try {
    return parseLenientJson(text);
  } catch {
    return new FastjsonParser(text).parseDocument();
  }
}

class FastjsonParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.value();
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('trailing characters');
    return value;
  }

  private fail(problem: string): never {
    throw new SyntaxError(`${problem} at position ${this.pos}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private value(): unknown {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    const m = /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)/.exec(this.text.slice(this.pos));
    if (!m) this.fail('unexpected character');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as unknown;
  }

  private string(): string {
    const start = this.pos++;
    while (this.pos < this.text.length && this.text[this.pos] !== '"') {
      this.pos += this.text[this.pos] === '\\' ? 2 : 1;
    }
    if (this.pos >= this.text.length) this.fail('unterminated string');
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  private array(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected , or ]');
    }
  }

  private object(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      const key = this.value();
      const name = typeof key === 'string' ? key : JSON.stringify(key);
      this.skipSpace();
      if (this.text[this.pos++] !== ':') this.fail('expected :');
      out[name] = this.value();
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected , or }');
    }
  }
}

/** Reads a MessageQueue-keyed map (as `parseFastjson` returns it) with `readValue` per entry. */
function decodeMessageQueueMap<V>(
  v: unknown,
  what: string,
  readValue: (value: unknown, path: string) => V,
): Map<MessageQueue, V> {
  const out = new Map<MessageQueue, V>();
  for (const [key, value] of Object.entries(record(v ?? {}, what, 'offsetTable'))) {
    let mqValue: unknown;
    try {
      mqValue = JSON.parse(key);
    } catch {
      throw shapeError(what, `offsetTable key ${key} is not a MessageQueue`);
    }
    const mq = decodeMessageQueue(mqValue, what, `offsetTable key ${key}`);
    out.set(mq, readValue(value, `offsetTable[${key}]`));
  }
  return out;
}

function parseBody(body: Buffer | undefined, what: string): Record<string, unknown> {
  if (!body || body.length === 0) throw shapeError(what, 'body is missing');
  let parsed: unknown;
  try {
    parsed = parseFastjson(body.toString('utf8'));
  } catch (err) {
    throw shapeError(what, `body is not JSON: ${(err as Error).message}`);
  }
  return record(parsed, what, 'body');
}

export function decodeConsumeStats(body: Buffer | undefined): ConsumeStats {
  const what = 'ConsumeStats';
  const root = parseBody(body, what);
  return {
    consumeTps: num(root.consumeTps, what, 'consumeTps', 0),
    offsetTable: decodeMessageQueueMap(root.offsetTable, what, (v, path) => {
      const r = record(v, what, path);
      return {
        brokerOffset: num(r.brokerOffset, what, `${path}.brokerOffset`, 0),
        consumerOffset: num(r.consumerOffset, what, `${path}.consumerOffset`, 0),
        lastTimestamp: num(r.lastTimestamp, what, `${path}.lastTimestamp`, 0),
      };
    }),
  };
}

export function decodeTopicStatsTable(body: Buffer | undefined): TopicStatsTable {
  const what = 'TopicStatsTable';
  const root = parseBody(body, what);
  return {
    offsetTable: decodeMessageQueueMap(root.offsetTable, what, (v, path) => {
      const r = record(v, what, path);
      return {
        lastUpdateTimestamp: num(r.lastUpdateTimestamp, what, `${path}.lastUpdateTimestamp`, 0),
        maxOffset: num(r.maxOffset, what, `${path}.maxOffset`, 0),
        minOffset: num(r.minOffset, what, `${path}.minOffset`, 0),
      };
    }),
  };
}

export function decodeResetOffsetBody(body: Buffer | undefined): ResetOffsetBody {
  const what = 'ResetOffsetBody';
  const root = parseBody(body, what);
  return {
    offsetTable: decodeMessageQueueMap(root.offsetTable, what, (v, path) => num(v, what, path)),
  };
}

export function decodeConsumerConnection(body: Buffer | undefined): ConsumerConnection {
  const what = 'ConsumerConnection';
  const root = parseBody(body, what);
  const subscriptionTable: Record<string, SubscriptionData> = {};
  for (const [topic, sub] of Object.entries(
    record(root.subscriptionTable ?? {}, what, 'subscriptionTable'),
  )) {
    subscriptionTable[topic] = decodeSubscriptionData(sub, what, `subscriptionTable.${topic}`);
  }
  return {
    connectionSet: decodeConnectionSet(root.connectionSet, what),
    consumeFromWhere: str(root.consumeFromWhere, what, 'consumeFromWhere', ''),
    consumeType: str(root.consumeType, what, 'consumeType', ''),
    messageModel: str(root.messageModel, what, 'messageModel', ''),
    subscriptionTable,
  };
}

function decodeConnectionSet(v: unknown, what: string): ConnectionInfo[] {
  return list(v, what, 'connectionSet').map((c, i) => {
    const path = `connectionSet[${i}]`;
    const r = record(c, what, path);
    return {
      clientAddr: str(r.clientAddr, what, `${path}.clientAddr`, ''),
      clientId: str(r.clientId, what, `${path}.clientId`, ''),
      language: str(r.language, what, `${path}.language`, 'JAVA'),
      version: num(r.version, what, `${path}.version`, 0),
    };
  });
}

export function decodeProducerConnection(body: Buffer | undefined): ProducerConnection {
  const what = 'ProducerConnection';
  return { connectionSet: decodeConnectionSet(parseBody(body, what).connectionSet, what) };
}
