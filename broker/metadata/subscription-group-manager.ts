import type { Logger } from '../../common/logger';
import { parseLenientJson } from '../../common/json';
import type { DataVersion } from '../../common/protocol/bodies';
import {
  defaultSubscriptionGroupConfig,
  type SubscriptionGroupConfig,
  type SubscriptionGroupWrapper,
  toSubscriptionGroupConfig,
} from '../../common/protocol/broker-bodies';
import { ConfigFile } from './config-file';
import { newDataVersion, nextDataVersion } from './data-version';

/** Groups RocketMQ reserves; they exist on every broker. */
const SYSTEM_GROUPS = [
  'TOOLS_CONSUMER',
  'FILTERSRV_CONSUMER',
  '__MONITOR_CONSUMER',
  'CLIENT_INNER_PRODUCER',
  'SELF_TEST_P_GROUP',
  'SELF_TEST_C_GROUP',
  'CID_ONS-HTTP-PROXY',
  'CID_ONSAPI_PERMISSION',
  'CID_ONSAPI_OWNER',
  'CID_ONSAPI_PULL',
  'CID_RMQ_SYS_TRANS',
];

/**
 * Consumer-group settings (RocketMQ SubscriptionGroupManager), persisted in
 * `subscriptionGroup.json`. Groups are created on first use when `autoCreateSubscriptionGroup`.
 */
export class SubscriptionGroupManager {
  private readonly table = new Map<string, SubscriptionGroupConfig>();
  private version: DataVersion = newDataVersion();
  private readonly file: ConfigFile<SubscriptionGroupWrapper>;

  constructor(
    path: string,
    private readonly autoCreate: boolean,
    private readonly logger: Logger,
  ) {
    this.file = new ConfigFile(path, logger);
    for (const group of SYSTEM_GROUPS) this.table.set(group, defaultSubscriptionGroupConfig(group));
  }

  async load(): Promise<void> {
    const wrapper = await this.file.load(parseWrapper);
    if (!wrapper) return;
    for (const [name, config] of Object.entries(wrapper.subscriptionGroupTable)) {
      this.table.set(name, config);
    }
    this.version = wrapper.dataVersion;
    this.logger.info({ groups: this.table.size }, 'subscription groups loaded');
  }

  get dataVersion(): DataVersion {
    return this.version;
  }

  get(group: string): SubscriptionGroupConfig | undefined {
    return this.table.get(group);
  }

  /** The group's config, created with defaults if auto-creation is on; else undefined. */
  findOrCreate(group: string): SubscriptionGroupConfig | undefined {
    const existing = this.table.get(group);
    if (existing || !this.autoCreate) return existing;
    const config = defaultSubscriptionGroupConfig(group);
    this.table.set(group, config);
    this.logger.info({ group }, 'subscription group auto-created');
    this.changed();
    return config;
  }

  update(config: SubscriptionGroupConfig): Promise<void> {
    this.table.set(config.groupName, config);
    this.logger.info({ config }, 'subscription group updated');
    return this.changed();
  }

  async delete(group: string): Promise<boolean> {
    if (!this.table.delete(group)) return false;
    this.logger.info({ group }, 'subscription group deleted');
    await this.changed();
    return true;
  }

  wrapper(): SubscriptionGroupWrapper {
    return {
      dataVersion: { ...this.version },
      subscriptionGroupTable: Object.fromEntries(this.table),
    };
  }

  flush(): Promise<void> {
    return this.persist();
  }

  private persist(): Promise<void> {
    return this.file.persist(() => JSON.stringify(this.wrapper(), null, 2));
  }

  private changed(): Promise<void> {
    this.version = nextDataVersion(this.version);
    return this.persist().catch((err: unknown) => {
      this.logger.error({ err, file: this.file.path }, 'cannot persist subscription groups');
    });
  }
}

function parseWrapper(text: string): SubscriptionGroupWrapper {
  const what = 'subscriptionGroup.json';
  const root = parseLenientJson(text) as Record<string, unknown> | null;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new Error(`${what} is not a JSON object`);
  }
  const table = (root.subscriptionGroupTable ?? {}) as Record<string, unknown>;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new Error(`${what}: subscriptionGroupTable is not an object`);
  }
  const subscriptionGroupTable: Record<string, SubscriptionGroupConfig> = {};
  for (const [name, config] of Object.entries(table)) {
    subscriptionGroupTable[name] = toSubscriptionGroupConfig(config, what);
  }
  const dv = root.dataVersion as Partial<DataVersion> | undefined;
  return {
    dataVersion: {
      counter: Number(dv?.counter ?? 0),
      stateVersion: Number(dv?.stateVersion ?? 0),
      timestamp: Number(dv?.timestamp ?? 0),
    },
    subscriptionGroupTable,
  };
}
