import type { Logger } from '../../common/logger';
import { parseLenientJson } from '../../common/json';
import { ConfigFile } from './config-file';

const SEPARATOR = '@';

interface OffsetFile {
  offsetTable: Map<string, Map<number, number>>;
}

/**
 * Committed consumer offsets (RocketMQ ConsumerOffsetManager): `"topic@group"` → queueId → the
 * next offset to consume, persisted in `consumerOffset.json` every
 * `flushConsumerOffsetInterval` and on shutdown (broker-internals.md §1.9, §11.1).
 */
export class ConsumerOffsetManager {
  private readonly table = new Map<string, Map<number, number>>();
  private readonly file: ConfigFile<OffsetFile>;
  private dirty = false;
  private timer?: NodeJS.Timeout;

  constructor(
    path: string,
    private readonly logger: Logger,
  ) {
    this.file = new ConfigFile(path, logger);
  }

  async load(): Promise<void> {
    const loaded = await this.file.load(parseOffsetFile);
    if (!loaded) return;
    for (const [key, queues] of loaded.offsetTable) this.table.set(key, queues);
    this.logger.info({ entries: this.table.size }, 'consumer offsets loaded');
  }

  /** Starts the periodic persist. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (!this.dirty) return;
      this.flush().catch((err: unknown) =>
        this.logger.error({ err, file: this.file.path }, 'cannot persist consumer offsets'),
      );
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Records a commit; negative offsets (ali-ons sends −1 for unconsumed queues) are ignored. */
  commit(group: string, topic: string, queueId: number, offset: number): void {
    if (!(offset >= 0)) return;
    const key = topic + SEPARATOR + group;
    let queues = this.table.get(key);
    if (!queues) {
      queues = new Map();
      this.table.set(key, queues);
    }
    if (queues.get(queueId) === offset) return;
    queues.set(queueId, offset);
    this.dirty = true;
  }

  /** The committed offset, or −1 when none. */
  query(group: string, topic: string, queueId: number): number {
    return this.table.get(topic + SEPARATOR + group)?.get(queueId) ?? -1;
  }

  /** queueId → offset of one group on one topic (empty when none). */
  queryAll(group: string, topic: string): ReadonlyMap<number, number> {
    return this.table.get(topic + SEPARATOR + group) ?? new Map<number, number>();
  }

  /** Every (group, topic) with its committed offsets. */
  *entries(): Generator<{ group: string; topic: string; queues: ReadonlyMap<number, number> }> {
    for (const [key, queues] of this.table) {
      const at = key.lastIndexOf(SEPARATOR);
      yield { group: key.slice(at + 1), topic: key.slice(0, at), queues };
    }
  }

  /** Topics the group has committed offsets for. */
  topicsOfGroup(group: string): string[] {
    const out: string[] = [];
    for (const key of this.table.keys()) {
      const at = key.lastIndexOf(SEPARATOR);
      if (key.slice(at + 1) === group) out.push(key.slice(0, at));
    }
    return out;
  }

  /** Groups that have committed offsets on `topic`. */
  groupsOfTopic(topic: string): string[] {
    const out: string[] = [];
    for (const key of this.table.keys()) {
      const at = key.lastIndexOf(SEPARATOR);
      if (key.slice(0, at) === topic) out.push(key.slice(at + 1));
    }
    return out;
  }

  removeGroup(group: string): void {
    for (const topic of this.topicsOfGroup(group)) this.table.delete(topic + SEPARATOR + group);
    this.dirty = true;
  }

  removeTopic(topic: string): void {
    for (const group of this.groupsOfTopic(topic)) this.table.delete(topic + SEPARATOR + group);
    this.dirty = true;
  }

  flush(): Promise<void> {
    this.dirty = false;
    return this.file.persist(() => this.render());
  }

  /**
   * A slave takes the master's offsets (SlaveSynchronize, broker-internals.md §5.5): `text` is
   * a GET_ALL_CONSUMER_OFFSET body; its entries replace the local ones of the same key.
   * Throws on a body that does not parse.
   */
  mergeFrom(text: string): void {
    for (const [key, queues] of parseOffsetFile(text).offsetTable) this.table.set(key, queues);
    this.dirty = true;
  }

  /** The consumerOffset.json text, also the GET_ALL_CONSUMER_OFFSET body. */
  render(): string {
    const offsetTable: Record<string, Record<string, number>> = {};
    for (const [key, queues] of this.table) {
      offsetTable[key] = Object.fromEntries([...queues].map(([q, o]) => [String(q), o]));
    }
    return JSON.stringify({ offsetTable }, null, 2);
  }
}

/** Accepts fastjson's unquoted queue-id keys as a Java broker writes them. */
function parseOffsetFile(text: string): OffsetFile {
  const root = parseLenientJson(text) as { offsetTable?: unknown } | null;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new Error('consumerOffset.json is not a JSON object');
  }
  const table = root.offsetTable ?? {};
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new Error('consumerOffset.json: offsetTable is not an object');
  }
  const offsetTable = new Map<string, Map<number, number>>();
  for (const [key, queues] of Object.entries(table as Record<string, unknown>)) {
    if (!key.includes(SEPARATOR) || typeof queues !== 'object' || queues === null) {
      throw new Error(`consumerOffset.json: bad entry "${key}"`);
    }
    const map = new Map<number, number>();
    for (const [q, offset] of Object.entries(queues as Record<string, unknown>)) {
      const queueId = Number(q);
      if (!Number.isInteger(queueId) || typeof offset !== 'number') {
        throw new Error(`consumerOffset.json: bad offset ${key}[${q}]`);
      }
      map.set(queueId, offset);
    }
    offsetTable.set(key, map);
  }
  return { offsetTable };
}
