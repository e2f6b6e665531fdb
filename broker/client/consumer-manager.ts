import type { Logger } from '../../common/logger';
import type { Connection } from '../../common/net/connection';
import type { ConsumerData, SubscriptionData } from '../../common/protocol/broker-bodies';
import type { ClientChannel } from './client-channel';

/** One consumer group's live members and what they subscribe (ConsumerGroupInfo). */
export class ConsumerGroupInfo {
  readonly channels = new Map<Connection, ClientChannel>();
  readonly subscriptions = new Map<string, SubscriptionData>();
  consumeType = 'CONSUME_PASSIVELY';
  messageModel = 'CLUSTERING';
  consumeFromWhere = 'CONSUME_FROM_LAST_OFFSET';

  constructor(readonly groupName: string) {}

  clientIds(): string[] {
    return [...this.channels.values()].map((c) => c.clientId);
  }

  /** Adds or refreshes a member; true when it is new (or changed its client id). */
  updateChannel(channel: ClientChannel): boolean {
    const old = this.channels.get(channel.connection);
    this.channels.set(channel.connection, channel);
    return old === undefined || old.clientId !== channel.clientId;
  }

  /**
   * Replaces the subscriptions with a heartbeat's (newer subVersions win); true when a topic
   * was added or removed, which changes the rebalance.
   */
  updateSubscriptions(subs: readonly SubscriptionData[]): boolean {
    let changed = false;
    const topics = new Set<string>();
    for (const sub of subs) {
      topics.add(sub.topic);
      const old = this.subscriptions.get(sub.topic);
      if (!old) {
        this.subscriptions.set(sub.topic, sub);
        changed = true;
      } else if (sub.subVersion > old.subVersion) {
        this.subscriptions.set(sub.topic, sub);
      }
    }
    for (const topic of [...this.subscriptions.keys()]) {
      if (!topics.has(topic)) {
        this.subscriptions.delete(topic);
        changed = true;
      }
    }
    return changed;
  }
}

/** Told which groups' membership changed, to send NOTIFY_CONSUMER_IDS_CHANGED. */
export type ConsumerIdsChangedListener = (group: ConsumerGroupInfo) => void;

/**
 * Consumer groups registered by heartbeats (RocketMQ ConsumerManager): members per group,
 * their subscriptions, expiry of silent members and removal of closed connections.
 */
export class ConsumerManager {
  private readonly groups = new Map<string, ConsumerGroupInfo>();

  constructor(
    private readonly logger: Logger,
    private readonly onIdsChanged: ConsumerIdsChangedListener,
  ) {}

  get(group: string): ConsumerGroupInfo | undefined {
    return this.groups.get(group);
  }

  groupNames(): IterableIterator<string> {
    return this.groups.keys();
  }

  findSubscription(group: string, topic: string): SubscriptionData | undefined {
    return this.groups.get(group)?.subscriptions.get(topic);
  }

  /** Registers a heartbeat's consumer data for one connection. */
  register(data: ConsumerData, channel: ClientChannel): void {
    let info = this.groups.get(data.groupName);
    if (!info) {
      info = new ConsumerGroupInfo(data.groupName);
      this.groups.set(data.groupName, info);
    }
    info.consumeType = data.consumeType;
    info.messageModel = data.messageModel;
    info.consumeFromWhere = data.consumeFromWhere;
    const newMember = info.updateChannel(channel);
    const newTopics = info.updateSubscriptions(data.subscriptionDataSet);
    if (newMember) {
      this.logger.info(
        {
          group: data.groupName,
          clientId: channel.clientId,
          remote: channel.connection.remoteAddress,
        },
        'consumer registered',
      );
    }
    if (newMember || newTopics) this.onIdsChanged(info);
  }

  /** UNREGISTER_CLIENT for one group. */
  unregister(group: string, connection: Connection): void {
    const info = this.groups.get(group);
    if (!info || !info.channels.delete(connection)) return;
    this.logger.info({ group, remote: connection.remoteAddress }, 'consumer unregistered');
    this.afterRemoval(info);
  }

  /** A connection closed: it leaves every group. */
  connectionClosed(connection: Connection): void {
    for (const info of [...this.groups.values()]) {
      if (info.channels.delete(connection)) {
        this.logger.info(
          { group: info.groupName, remote: connection.remoteAddress },
          'consumer connection closed, removed from group',
        );
        this.afterRemoval(info);
      }
    }
  }

  /** Drops members silent for longer than `timeoutMs` and closes their connections. */
  scanNotActive(now: number, timeoutMs: number): void {
    for (const info of [...this.groups.values()]) {
      for (const channel of [...info.channels.values()]) {
        if (now - channel.lastUpdateTimestamp <= timeoutMs) continue;
        info.channels.delete(channel.connection);
        this.logger.warn(
          { group: info.groupName, clientId: channel.clientId },
          'consumer expired: no heartbeat within the expiry time',
        );
        channel.connection.close();
        this.afterRemoval(info);
      }
    }
  }

  private afterRemoval(info: ConsumerGroupInfo): void {
    if (info.channels.size === 0) {
      this.groups.delete(info.groupName);
      return;
    }
    this.onIdsChanged(info);
  }
}
