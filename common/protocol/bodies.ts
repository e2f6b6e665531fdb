import { inflateSync } from 'node:zlib';
import { parseLenientJson } from '../json';
import { ResponseCode } from './codes';
import { DEFAULT_MAX_FRAME_SIZE } from './frame';
import { RemotingError } from './errors';

/**
 * JSON bodies of the name-server commands (`shared/spec/remoting.md` §5.2, §5.4, §5.6).
 * Objects are built with keys in fastjson's alphabetical order and sent as compact JSON with
 * quoted map keys, which every client parses (§5.2).
 */

export interface DataVersion {
  counter: number;
  timestamp: number;
  stateVersion?: number;
}

export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';

export interface TopicConfig {
  order: boolean;
  perm: number;
  readQueueNums: number;
  topicFilterType: TopicFilterType;
  topicName: string;
  topicSysFlag: number;
  writeQueueNums: number;
}

export interface TopicConfigSerializeWrapper {
  dataVersion: DataVersion;
  topicConfigTable: Record<string, TopicConfig>;
}

export interface RegisterBrokerBody {
  filterServerList: string[];
  topicConfigSerializeWrapper: TopicConfigSerializeWrapper;
}

export interface QueueData {
  brokerName: string;
  perm: number;
  readQueueNums: number;
  topicSysFlag: number;
  writeQueueNums: number;
}

export interface BrokerData {
  /** brokerId (0 = master) → "ip:port". */
  brokerAddrs: Record<string, string>;
  brokerName: string;
  cluster: string;
}

export interface TopicRouteData {
  brokerDatas: BrokerData[];
  filterServerTable: Record<string, string[]>;
  orderTopicConf?: string;
  queueDatas: QueueData[];
}

export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

export interface TopicList {
  topicList: string[];
  brokerAddr?: string;
}

export interface KVTable {
  table: Record<string, string>;
}

/** Permission bits of a topic (PermName). */
export const Perm = { PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 } as const;

export function encodeJsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Parses a JSON body (fastjson's unquoted numeric keys accepted); a bad body is SYSTEM_ERROR. */
export function decodeJsonBody(body: Buffer | undefined, what: string): unknown {
  if (!body || body.length === 0) {
    throw new RemotingError(ResponseCode.SYSTEM_ERROR, `${what}: body is missing`);
  }
  try {
    return parseLenientJson(body.toString('utf8'));
  } catch (err) {
    throw new RemotingError(
      ResponseCode.SYSTEM_ERROR,
      `${what}: body is not JSON: ${(err as Error).message}`,
    );
  }
}

// ---------------------------------------------------------------- validation of untrusted bodies

class BodyShapeError extends RemotingError {
  constructor(what: string, problem: string) {
    super(ResponseCode.SYSTEM_ERROR, `${what}: ${problem}`);
  }
}

function asRecord(v: unknown, what: string, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new BodyShapeError(what, `${path} is not an object`);
  }
  return v as Record<string, unknown>;
}

function asNumber(v: unknown, what: string, path: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new BodyShapeError(what, `${path} is not a number`);
  }
  return n;
}

function asDataVersion(v: unknown, what: string): DataVersion {
  const r = asRecord(v ?? {}, what, 'dataVersion');
  const dv: DataVersion = {
    counter: asNumber(r.counter, what, 'dataVersion.counter', 0),
    timestamp: asNumber(r.timestamp, what, 'dataVersion.timestamp', 0),
  };
  if (r.stateVersion !== undefined) {
    dv.stateVersion = asNumber(r.stateVersion, what, 'dataVersion.stateVersion');
  }
  return dv;
}

function asTopicConfig(name: string, v: unknown, what: string): TopicConfig {
  const r = asRecord(v, what, `topicConfigTable.${name}`);
  const at = (field: string) => `topicConfigTable.${name}.${field}`;
  return {
    order: r.order === true || r.order === 'true',
    perm: asNumber(r.perm, what, at('perm'), Perm.READ | Perm.WRITE),
    readQueueNums: asNumber(r.readQueueNums, what, at('readQueueNums')),
    topicFilterType: r.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
    topicName: typeof r.topicName === 'string' ? r.topicName : name,
    topicSysFlag: asNumber(r.topicSysFlag, what, at('topicSysFlag'), 0),
    writeQueueNums: asNumber(r.writeQueueNums, what, at('writeQueueNums')),
  };
}

export function sameDataVersion(a: DataVersion | undefined, b: DataVersion | undefined): boolean {
  return (
    !!a &&
    !!b &&
    a.counter === b.counter &&
    a.timestamp === b.timestamp &&
    (a.stateVersion ?? 0) === (b.stateVersion ?? 0)
  );
}

/** DataVersion as a QUERY_DATA_VERSION body carries it. */
export function decodeDataVersion(body: Buffer | undefined): DataVersion {
  return asDataVersion(decodeJsonBody(body, 'DataVersion'), 'DataVersion');
}

/** REGISTER_BROKER's body, plain JSON or the zlib-compressed binary form (§5.4). */
export function decodeRegisterBrokerBody(
  body: Buffer | undefined,
  compressed: boolean,
): RegisterBrokerBody {
  const what = 'RegisterBrokerBody';
  if (!body || body.length === 0) {
    return {
      filterServerList: [],
      topicConfigSerializeWrapper: {
        dataVersion: { counter: 0, timestamp: 0 },
        topicConfigTable: {},
      },
    };
  }
  if (compressed) return decodeCompressedRegisterBody(body);
  const root = asRecord(decodeJsonBody(body, what), what, 'body');
  const wrapper = asRecord(
    root.topicConfigSerializeWrapper ?? {},
    what,
    'topicConfigSerializeWrapper',
  );
  const table = asRecord(wrapper.topicConfigTable ?? {}, what, 'topicConfigTable');
  const topicConfigTable: Record<string, TopicConfig> = {};
  for (const [name, config] of Object.entries(table)) {
    topicConfigTable[name] = asTopicConfig(name, config, what);
  }
  const filters = Array.isArray(root.filterServerList) ? root.filterServerList : [];
  return {
    filterServerList: filters.filter((f): f is string => typeof f === 'string'),
    topicConfigSerializeWrapper: {
      dataVersion: asDataVersion(wrapper.dataVersion, what),
      topicConfigTable,
    },
  };
}

/**
 * Bounds on a compressed registration, so that a few KiB of hostile zlib cannot make the name
 * server allocate far more than any frame: inflated, it may be as large as the largest frame
 * (about 300,000 topics), and none of its fields (a DataVersion, one topic's config line, the
 * filter server list) comes anywhere near 1 MiB.
 */
const MAX_INFLATED_REGISTER_BODY = DEFAULT_MAX_FRAME_SIZE;
const MAX_REGISTER_BODY_FIELD = 1024 * 1024;

function decodeCompressedRegisterBody(body: Buffer): RegisterBrokerBody {
  const what = 'RegisterBrokerBody (compressed)';
  let data: Buffer;
  try {
    data = inflateSync(body, { maxOutputLength: MAX_INFLATED_REGISTER_BODY });
  } catch (err) {
    throw new BodyShapeError(what, `does not inflate: ${(err as Error).message}`);
  }
  let pos = 0;
  const readChunk = (field: string): string => {
    if (pos + 4 > data.length) throw new BodyShapeError(what, `truncated before ${field}`);
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > MAX_REGISTER_BODY_FIELD || pos + len > data.length)
      throw new BodyShapeError(what, `bad length of ${field}`);
    const text = data.toString('utf8', pos, pos + len);
    pos += len;
    return text;
  };
  const parse = (text: string, field: string): unknown => {
    try {
      return parseLenientJson(text);
    } catch {
      throw new BodyShapeError(what, `${field} is not JSON`);
    }
  };
  const dataVersion = asDataVersion(parse(readChunk('dataVersion'), 'dataVersion'), what);
  if (pos + 4 > data.length) throw new BodyShapeError(what, 'truncated before topic count');
  const count = data.readInt32BE(pos);
  pos += 4;
  if (count < 0) throw new BodyShapeError(what, 'negative topic count');
  const topicConfigTable: Record<string, TopicConfig> = {};
  for (let i = 0; i < count; i++) {
    const config = parseTopicConfigText(readChunk('topic config'), what);
    topicConfigTable[config.topicName] = config;
  }
  const filters = pos < data.length ? parse(readChunk('filterServerList'), 'filterServerList') : [];
  return {
    filterServerList: Array.isArray(filters)
      ? filters.filter((f): f is string => typeof f === 'string')
      : [],
    topicConfigSerializeWrapper: { dataVersion, topicConfigTable },
  };
}

/** TopicConfig's text form: `<topicName> <read> <write> <perm> <filterType>`. */
function parseTopicConfigText(text: string, what: string): TopicConfig {
  const parts = text.split(' ');
  if (parts.length < 5) throw new BodyShapeError(what, `bad topic config "${text}"`);
  const [topicName, read, write, perm, filterType] = parts;
  return {
    order: false,
    perm: asNumber(perm, what, `${topicName}.perm`),
    readQueueNums: asNumber(read, what, `${topicName}.readQueueNums`),
    topicFilterType: filterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
    topicName,
    topicSysFlag: 0,
    writeQueueNums: asNumber(write, what, `${topicName}.writeQueueNums`),
  };
}
