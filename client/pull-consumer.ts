/**
 * The pull consumer: the application decides which queue to read from which offset, and
 * commits offsets itself (Java `DefaultMQPullConsumer`). Every pull carries its subscription.
 */
import type { ConsumerData, SubscriptionData } from '../common/protocol/broker-bodies';
import { PullSysFlag, type PullResult } from './broker-api';
import { ClientInstance, type ClientMember, type ClientOptions } from './client-instance';
import type { MessageQueue } from './message-queue';
import { type MessageSelector, subscriptionOf } from './message-selector';
import { subscribeQueues } from './route';
import { matchesSubscription } from './subscription';

export interface PullConsumerOptions extends ClientOptions {
  consumerGroup: string;
}

export interface PullOptions {
  /**
   * A tag expression (`*`, default, or `TagA || TagB`), or `MessageSelector.bySql(...)`, which
   * the broker evaluates (it needs `enablePropertyFilter`).
   */
  subExpression?: string | MessageSelector;
  /** Let the broker hold the request up to this long when no message is there (long polling). */
  suspendTimeoutMs?: number;
  timeoutMs?: number;
}

export class PullConsumer implements ClientMember {
  readonly isConsumer = true;
  readonly group: string;
  readonly client: ClientInstance;
  private readonly subscriptions = new Map<string, SubscriptionData>();

  constructor(options: PullConsumerOptions) {
    this.group = options.consumerGroup;
    this.client = new ClientInstance(options);
  }

  topics(): Iterable<string> {
    return this.subscriptions.keys();
  }

  consumerData(): ConsumerData {
    return {
      consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
      consumeType: 'CONSUME_ACTIVELY',
      groupName: this.group,
      messageModel: 'CLUSTERING',
      subscriptionDataSet: [...this.subscriptions.values()],
      unitMode: false,
    };
  }

  async start(): Promise<void> {
    this.client.register(this);
    await this.client.start();
  }

  async shutdown(): Promise<void> {
    this.client.unregister(this);
    await this.client.unregisterGroup({ consumerGroup: this.group });
    this.client.shutdown();
  }

  /** The readable queues of `topic`. */
  async fetchSubscribeMessageQueues(topic: string): Promise<MessageQueue[]> {
    const route = await this.client.routes.fetch(topic);
    if (!route) throw new Error(`No route info of this topic: ${topic}`);
    return subscribeQueues(topic, route);
  }

  /**
   * Up to `maxNums` messages of `mq` from `offset`. Messages whose tag does not match are
   * dropped here too (the broker filters by tag hash only); `nextBeginOffset` is where to go on.
   * A subscription the broker refuses (bad SQL92, or no property filter) throws its code and
   * remark, and is not kept for the heartbeats.
   */
  async pull(
    mq: MessageQueue,
    offset: number,
    maxNums: number,
    options: PullOptions = {},
  ): Promise<PullResult> {
    const selector = options.subExpression ?? '*';
    const wanted = subscriptionOf(mq.topic, selector, 0);
    const previous = this.subscriptions.get(mq.topic);
    // An unchanged subscription keeps its version; a new one gets a fresh version.
    const sub =
      previous?.subString === wanted.subString && previous.expressionType === wanted.expressionType
        ? previous
        : subscriptionOf(mq.topic, selector);
    const suspend = options.suspendTimeoutMs ?? 0;
    const result = await this.client.broker.pull(
      await this.addr(mq),
      mq.brokerName,
      {
        consumerGroup: this.group,
        topic: mq.topic,
        queueId: mq.queueId,
        queueOffset: offset,
        maxMsgNums: maxNums,
        sysFlag: PullSysFlag.SUBSCRIPTION | (suspend > 0 ? PullSysFlag.SUSPEND : 0),
        commitOffset: 0,
        suspendTimeoutMillis: suspend,
        subscription: sub.subString,
        subVersion: sub.subVersion,
        expressionType: sub.expressionType,
        bname: mq.brokerName,
      },
      options.timeoutMs ?? suspend + 10_000,
    );
    this.subscriptions.set(mq.topic, sub);
    return {
      ...result,
      messages: result.messages.filter((m) => matchesSubscription(sub, m.tags)),
    };
  }

  /** The group's committed offset of `mq`, or undefined when there is none. */
  async fetchConsumeOffset(mq: MessageQueue): Promise<number | undefined> {
    return this.client.broker.queryConsumerOffset(await this.addr(mq), this.group, mq);
  }

  async updateConsumeOffset(mq: MessageQueue, offset: number): Promise<void> {
    await this.client.broker.updateConsumerOffset(
      await this.addr(mq),
      this.group,
      mq,
      offset,
      false,
    );
  }

  async minOffset(mq: MessageQueue): Promise<number> {
    return this.client.broker.minOffset(await this.addr(mq), mq);
  }

  async maxOffset(mq: MessageQueue): Promise<number> {
    return this.client.broker.maxOffset(await this.addr(mq), mq);
  }

  /** The offset of the message stored closest to `timestamp` (ms since epoch). */
  async searchOffset(mq: MessageQueue, timestamp: number): Promise<number> {
    return this.client.broker.searchOffset(await this.addr(mq), mq, timestamp);
  }

  async earliestMsgStoreTime(mq: MessageQueue): Promise<number> {
    return this.client.broker.earliestMsgStoreTime(await this.addr(mq), mq);
  }

  private addr(mq: MessageQueue): Promise<string> {
    return this.client.routes.findMasterAddr(mq.brokerName, mq.topic);
  }
}
