import type { Logger } from '../../common/logger';
import { parseLenientJson } from '../../common/json';
import {
  type DataVersion,
  decodeRegisterBrokerBody,
  Perm,
  type TopicConfig,
  type TopicConfigSerializeWrapper,
} from '../../common/protocol/bodies';
import type { BrokerOwnConfig } from '../broker-config';
import { ConfigFile } from './config-file';
import { newDataVersion, nextDataVersion } from './data-version';
import {
  AUTO_CREATE_TOPIC_KEY,
  BENCHMARK_TOPIC,
  OFFSET_MOVED_EVENT,
  REPLY_TOPIC_POSTFIX,
  SCHEDULE_TOPIC,
  SELF_TEST_TOPIC,
} from './system-topics';

export function newTopicConfig(
  topicName: string,
  queueNums: number,
  perm: number,
  topicSysFlag = 0,
): TopicConfig {
  return {
    order: false,
    perm,
    readQueueNums: queueNums,
    topicFilterType: 'SINGLE_TAG',
    topicName,
    topicSysFlag,
    writeQueueNums: queueNums,
  };
}

export const isWriteable = (perm: number): boolean => (perm & Perm.WRITE) !== 0;
export const isReadable = (perm: number): boolean => (perm & Perm.READ) !== 0;
export const isInheritable = (perm: number): boolean => (perm & Perm.INHERIT) !== 0;

type TopicSettings = Pick<
  BrokerOwnConfig,
  | 'autoCreateTopicEnable'
  | 'defaultTopicQueueNums'
  | 'brokerClusterName'
  | 'brokerName'
  | 'clusterTopicEnable'
  | 'brokerTopicEnable'
  | 'traceTopicEnable'
  | 'msgTraceTopicName'
>;

/**
 * The broker's topics (RocketMQ TopicConfigManager): system topics created at start, the
 * persisted ones from `topics.json`, topics auto-created by sends, and the DataVersion that
 * tells name servers something changed. Every change is persisted and reported to
 * `onChanged` (the broker re-registers with its name servers).
 */
export class TopicConfigManager {
  private readonly table = new Map<string, TopicConfig>();
  private version: DataVersion = newDataVersion();
  private readonly file: ConfigFile<TopicConfigSerializeWrapper>;
  private readonly changeListeners: (() => void)[] = [];

  constructor(
    path: string,
    private readonly settings: TopicSettings,
    private readonly logger: Logger,
  ) {
    this.file = new ConfigFile(path, logger);
    this.createSystemTopics();
  }

  /** Called after each change is applied (not awaited: persistence runs in the background). */
  onChanged(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  get dataVersion(): DataVersion {
    return this.version;
  }

  private createSystemTopics(): void {
    const s = this.settings;
    const rw = Perm.READ | Perm.WRITE;
    const add = (name: string, queues: number, perm: number) =>
      this.table.set(name, newTopicConfig(name, queues, perm));
    add(SELF_TEST_TOPIC, 1, rw);
    if (s.autoCreateTopicEnable) {
      add(AUTO_CREATE_TOPIC_KEY, s.defaultTopicQueueNums, rw | Perm.INHERIT);
    }
    add(BENCHMARK_TOPIC, 1024, rw);
    add(s.brokerClusterName, 16, s.clusterTopicEnable ? rw | Perm.INHERIT : rw);
    add(s.brokerName, 1, s.brokerTopicEnable ? rw | Perm.INHERIT : rw);
    add(OFFSET_MOVED_EVENT, 1, rw);
    add(SCHEDULE_TOPIC, 18, rw);
    if (s.traceTopicEnable) add(s.msgTraceTopicName, 1, rw);
    add(`${s.brokerClusterName}_${REPLY_TOPIC_POSTFIX}`, 1, rw);
  }

  /** Reads `topics.json` (or its backup); persisted topics replace the built-in defaults. */
  async load(): Promise<void> {
    const wrapper = await this.file.load((text) => {
      // The same validation as a registration body; `topics.json` has its shape.
      parseLenientJson(text);
      return decodeRegisterBrokerBody(
        Buffer.from(`{"topicConfigSerializeWrapper":${text}}`, 'utf8'),
        false,
      ).topicConfigSerializeWrapper;
    });
    if (!wrapper) return;
    for (const [name, config] of Object.entries(wrapper.topicConfigTable)) {
      this.table.set(name, config);
    }
    this.version = wrapper.dataVersion;
    this.logger.info({ topics: this.table.size, file: this.file.path }, 'topic configs loaded');
  }

  get(topic: string): TopicConfig | undefined {
    return this.table.get(topic);
  }

  topics(): IterableIterator<TopicConfig> {
    return this.table.values();
  }

  /** Adds or replaces a topic (UPDATE_AND_CREATE_TOPIC). */
  update(config: TopicConfig): Promise<void> {
    const old = this.table.get(config.topicName);
    this.table.set(config.topicName, config);
    this.logger.info({ old, new: config }, old ? 'topic config updated' : 'topic config created');
    return this.changed();
  }

  /** Removes a topic; false if it did not exist. */
  async delete(topic: string): Promise<boolean> {
    if (!this.table.delete(topic)) return false;
    this.logger.info({ topic }, 'topic config deleted');
    await this.changed();
    return true;
  }

  /**
   * The topic a send to an unknown `topic` creates from its template `defaultTopic`
   * (`createTopicInSendMessageMethod`, broker-internals.md §8.3), or undefined when the template
   * does not exist or may not be inherited.
   */
  async createFromTemplate(
    topic: string,
    defaultTopic: string,
    clientQueueNums: number,
    topicSysFlag: number,
    clientAddr: string,
  ): Promise<TopicConfig | undefined> {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const template = this.table.get(defaultTopic);
    if (!template) {
      this.logger.warn({ topic, defaultTopic, clientAddr }, 'auto-create: no template topic');
      return undefined;
    }
    let perm = template.perm;
    if (defaultTopic === AUTO_CREATE_TOPIC_KEY && !this.settings.autoCreateTopicEnable) {
      perm = Perm.READ | Perm.WRITE;
    }
    if (!isInheritable(perm)) {
      this.logger.warn(
        { topic, defaultTopic, perm, clientAddr },
        'auto-create: template topic may not be inherited',
      );
      return undefined;
    }
    const queues = Math.max(1, Math.min(clientQueueNums, template.writeQueueNums));
    const config = newTopicConfig(topic, queues, perm & ~Perm.INHERIT, topicSysFlag);
    this.table.set(topic, config);
    this.logger.info({ topic, queues, clientAddr }, 'topic auto-created from template');
    await this.changed();
    return config;
  }

  /** The topic, created with `queueNums` queues and `perm` if absent (retry and DLQ topics). */
  async getOrCreate(topic: string, queueNums: number, perm: number): Promise<TopicConfig> {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const config = newTopicConfig(topic, queueNums, perm);
    this.table.set(topic, config);
    this.logger.info({ topic, queueNums, perm }, 'topic created');
    await this.changed();
    return config;
  }

  /** Topic configs as REGISTER_BROKER and GET_ALL_TOPIC_CONFIG carry them. */
  serializeWrapper(): TopicConfigSerializeWrapper {
    return {
      dataVersion: { ...this.version },
      topicConfigTable: Object.fromEntries(this.table),
    };
  }

  /**
   * The topics as registered changed without a topic changing (brokerPermission, which they are
   * registered with): a new data version, so name servers take the registration in.
   */
  touch(): Promise<void> {
    return this.changed();
  }

  /** Waits for any pending write (shutdown). */
  flush(): Promise<void> {
    return this.persist();
  }

  private persist(): Promise<void> {
    return this.file.persist(() => JSON.stringify(this.serializeWrapper(), null, 2));
  }

  private changed(): Promise<void> {
    this.version = nextDataVersion(this.version);
    for (const listener of this.changeListeners) listener();
    return this.persist();
  }
}
