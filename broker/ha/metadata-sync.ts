/**
 * A slave's copy of its master's metadata (SlaveSynchronize, broker-internals.md §5.5): topic
 * configs (GET_ALL_TOPIC_CONFIG), consumer offsets (GET_ALL_CONSUMER_OFFSET), delay offsets
 * (GET_ALL_DELAY_OFFSET) and subscription groups (GET_ALL_SUBSCRIPTIONGROUP_CONFIG), pulled right
 * away and then every 10 s; entries that changed are stored and persisted. Delay offsets are
 * written to the slave's `delayOffset.json` as RocketMQ does: the slave's scheduler delivers
 * nothing and reloads that file when it becomes master, so it continues where the master was.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic-file';
import { parseLenientJson } from '../../common/json';
import type { Logger } from '../../common/logger';
import type { RemotingClient } from '../../common/net/client';
import { decodeJsonBody, decodeRegisterBrokerBody } from '../../common/protocol/bodies';
import { toSubscriptionGroupConfig } from '../../common/protocol/broker-bodies';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { createRequest } from '../../common/protocol/command';
import type { ConsumerOffsetManager } from '../metadata/consumer-offset-manager';
import type { SubscriptionGroupManager } from '../metadata/subscription-group-manager';
import type { TopicConfigManager } from '../metadata/topic-config-manager';

const SYNC_INTERVAL_MS = 10_000;

export interface MetadataSyncTargets {
  topics: TopicConfigManager;
  subscriptionGroups: SubscriptionGroupManager;
  offsets: ConsumerOffsetManager;
  /** This broker's `delayOffset.json`. */
  delayOffsetPath: string;
}

export class MetadataSync {
  private timer: NodeJS.Timeout | undefined;
  private master = '';
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly remoting: RemotingClient,
    private readonly targets: MetadataSyncTargets,
    private readonly logger: Logger,
  ) {}

  /** Follows `masterAddr` (a remoting address) from now on; '' stops syncing. */
  follow(masterAddr: string): void {
    if (masterAddr === this.master) return;
    this.master = masterAddr;
    clearInterval(this.timer);
    this.timer = undefined;
    if (masterAddr === '') return;
    this.syncSoon();
    this.timer = setInterval(() => this.syncSoon(), SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.follow('');
    await this.running;
  }

  private syncSoon(): void {
    this.running = this.running.then(() =>
      this.syncAll().catch((err: unknown) =>
        this.logger.warn(
          { master: this.master, err: (err as Error).message },
          'metadata sync failed',
        ),
      ),
    );
  }

  private async syncAll(): Promise<void> {
    const master = this.master;
    if (master === '') return;
    const topicsBody = await this.fetch(master, RequestCode.GET_ALL_TOPIC_CONFIG);
    // The body is a TopicConfigSerializeWrapper: the registration body's decoder checks it.
    const wrapper = decodeRegisterBrokerBody(
      Buffer.concat([Buffer.from('{"topicConfigSerializeWrapper":'), topicsBody, Buffer.from('}')]),
      false,
    ).topicConfigSerializeWrapper;
    let changed = 0;
    for (const config of Object.values(wrapper.topicConfigTable)) {
      const mine = this.targets.topics.get(config.topicName);
      if (mine === undefined || JSON.stringify(mine) !== JSON.stringify(config)) {
        await this.targets.topics.update(config);
        changed++;
      }
    }
    const groupsBody = await this.fetch(master, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    const root = decodeJsonBody(groupsBody, 'SubscriptionGroupWrapper') as {
      subscriptionGroupTable?: Record<string, unknown>;
    };
    for (const raw of Object.values(root.subscriptionGroupTable ?? {})) {
      const config = toSubscriptionGroupConfig(raw);
      const mine = this.targets.subscriptionGroups.get(config.groupName);
      if (mine === undefined || JSON.stringify(mine) !== JSON.stringify(config)) {
        await this.targets.subscriptionGroups.update(config);
        changed++;
      }
    }
    const offsetsBody = await this.fetch(master, RequestCode.GET_ALL_CONSUMER_OFFSET);
    this.targets.offsets.mergeFrom(offsetsBody.toString('utf8'));
    if (await this.syncDelayOffsets(master)) changed++;
    if (changed > 0) this.logger.info({ master, changed }, 'metadata synced from the master');
  }

  /** Replaces the local `delayOffset.json` with the master's when they differ. */
  private async syncDelayOffsets(master: string): Promise<boolean> {
    const response = await this.remoting.invoke(
      master,
      createRequest(RequestCode.GET_ALL_DELAY_OFFSET),
      5000,
    );
    if (response.code !== ResponseCode.SUCCESS) {
      throw new Error(`GET_ALL_DELAY_OFFSET answered ${response.code}: ${response.remark ?? ''}`);
    }
    // No body: how earlier rocketmq-ts masters said "no file yet" (now an empty table, as Java
    // answers); a rolling upgrade can pair such a master with this slave.
    if (response.body === undefined || response.body.length === 0) return false;
    const text = response.body.toString('utf8');
    const root = parseLenientJson(text) as { offsetTable?: unknown } | null;
    if (typeof root !== 'object' || root === null || typeof root.offsetTable !== 'object') {
      throw new Error('GET_ALL_DELAY_OFFSET: body has no offsetTable');
    }
    const path = this.targets.delayOffsetPath;
    const mine = await readFile(path, 'utf8').catch(() => undefined);
    if (mine === text) return false;
    await writeFileAtomic(path, text);
    return true;
  }

  private async fetch(master: string, code: number): Promise<Buffer> {
    const response = await this.remoting.invoke(master, createRequest(code), 5000);
    if (response.code !== ResponseCode.SUCCESS || response.body === undefined) {
      throw new Error(`request ${code} answered ${response.code}: ${response.remark ?? ''}`);
    }
    return response.body;
  }
}
