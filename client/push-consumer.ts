/**
 * The push consumer (broker-internals.md §11, §12, remoting.md §7, §8.3): subscribes topics by
 * tag or SQL92, shares a group's queues with its other members by rebalancing (every 20 s and
 * whenever the broker says the membership changed), long-polls each of its queues, runs the
 * listener concurrently or orderly, and commits offsets every 5 s and at shutdown.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { MessageConst } from '../common/message/properties';
import {
  type ConsumerData,
  decodeResetOffsetBody,
  encodeMessageQueueMap,
  type MessageQueue,
  type SubscriptionData,
} from '../common/protocol/broker-bodies';
import { RequestCode, ResponseCode } from '../common/protocol/codes';
import { createResponse, type RemotingCommand } from '../common/protocol/command';
import { RemotingError } from '../common/protocol/errors';
import {
  GetConsumerRunningInfoRequestHeader,
  NotifyConsumerIdsChangedRequestHeader,
  ResetOffsetRequestHeader,
} from '../common/protocol/headers';
import { allocateAveragely, type AllocateStrategy } from './allocate';
import { sleep } from './async-util';
import { PullSysFlag } from './broker-api';
import { ClientInstance, type ClientMember, type ClientOptions } from './client-instance';
import {
  ConcurrentConsumeService,
  type ConcurrentListener,
  type ConsumeHost,
  type ConsumeService,
  OrderlyConsumeService,
  type OrderlyListener,
} from './consume-service';
import type { MessageExt } from './message';
import { compareQueues, queueJson, queueKey } from './message-queue';
import { isTagSubscription, type MessageSelector, subscriptionOf } from './message-selector';
import { LocalOffsetStore, type OffsetStore, RemoteOffsetStore } from './offset-store';
import { ProcessQueue } from './process-queue';
import { Producer } from './producer';
import type { TraceDispatcher, TraceOptions } from './trace/trace-dispatcher';
import { createTraceDispatcher, traceListener } from './trace/trace-hooks';
import { subscribeQueues } from './route';
import { matchesSubscription } from './subscription';

export type MessageModel = 'CLUSTERING' | 'BROADCASTING';
export type ConsumeFromWhere =
  'CONSUME_FROM_LAST_OFFSET' | 'CONSUME_FROM_FIRST_OFFSET' | 'CONSUME_FROM_TIMESTAMP';

export interface PushConsumerOptions extends ClientOptions, TraceOptions {
  consumerGroup: string;
  /** CLUSTERING (default): each message to one member; BROADCASTING: to every member. */
  messageModel?: MessageModel;
  /** Where a queue without a committed offset starts; default CONSUME_FROM_LAST_OFFSET. */
  consumeFromWhere?: ConsumeFromWhere;
  /** For CONSUME_FROM_TIMESTAMP (ms since epoch); default 30 minutes ago. */
  consumeTimestamp?: number;
  /** Default AllocateMessageQueueAveragely. */
  allocateStrategy?: AllocateStrategy;
  /** Messages per listener call; default 1. */
  consumeMessageBatchMaxSize?: number;
  /** Messages per pull; default 32. */
  pullBatchSize?: number;
  /** Cached messages per queue before pulling pauses; default 1000. */
  pullThresholdForQueue?: number;
  /** Listener calls running at once (concurrent mode); default 20. */
  consumeConcurrency?: number;
  /** Deliveries before a message goes to the DLQ (concurrent mode); default 16. */
  maxReconsumeTimes?: number;
  /** Orderly: pause after a failed batch; default 1000 ms. */
  suspendCurrentQueueTimeMillis?: number;
  /** Send the subscription with every pull (ali-ons does; Java does not); default false. */
  postSubscriptionWhenPull?: boolean;
  rebalanceIntervalMs?: number;
  persistConsumerOffsetIntervalMs?: number;
  lockIntervalMs?: number;
  /** Broadcasting offsets live under this directory; default ~/.rocketmq_offsets. */
  localOffsetStoreDir?: string;
}

const PULL_DELAY_ON_ERROR_MS = 3000;
const PULL_DELAY_WHEN_FLOW_CONTROL_MS = 50;
const PULL_DELAY_WHEN_NOT_LOCKED_MS = 3000;
const BROKER_SUSPEND_MAX_MS = 15_000;
const PULL_RPC_TIMEOUT_MS = 30_000;
const INNER_PRODUCER_GROUP = 'CLIENT_INNER_PRODUCER';
const SUBSCRIPTION_LOST = new Set<number>([
  ResponseCode.SUBSCRIPTION_NOT_EXIST,
  ResponseCode.SUBSCRIPTION_NOT_LATEST,
]);

export class PushConsumer implements ClientMember, ConsumeHost {
  readonly isConsumer = true;
  readonly group: string;
  readonly client: ClientInstance;
  readonly offsetStore: OffsetStore;
  readonly clustering: boolean;
  readonly batchMaxSize: number;
  private readonly subscriptions = new Map<string, SubscriptionData>();
  private readonly processQueues = new Map<string, { mq: MessageQueue; pq: ProcessQueue }>();
  private readonly allocate: AllocateStrategy;
  private readonly retryProducer: Producer;
  private consumeService: ConsumeService | undefined;
  private orderly = false;
  private running = false;
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;
  private readonly startedAt = Date.now();
  /** Writes SubBefore/SubAfter trace records when `enableMsgTrace` is set. */
  private readonly trace: TraceDispatcher | undefined;

  constructor(private readonly options: PushConsumerOptions) {
    this.group = options.consumerGroup;
    this.client = new ClientInstance(options);
    this.clustering = (options.messageModel ?? 'CLUSTERING') === 'CLUSTERING';
    this.batchMaxSize = Math.max(1, options.consumeMessageBatchMaxSize ?? 1);
    this.allocate = options.allocateStrategy ?? allocateAveragely;
    this.offsetStore = this.clustering
      ? new RemoteOffsetStore(this.client, this.group)
      : new LocalOffsetStore(
          options.localOffsetStoreDir ?? join(homedir(), '.rocketmq_offsets'),
          this.client.clientId,
          this.group,
        );
    this.retryProducer = new Producer(
      { ...options, producerGroup: INNER_PRODUCER_GROUP, enableMsgTrace: false },
      this.client,
    );
    this.trace = createTraceDispatcher(
      options,
      this.group,
      this.client.logger,
      (producerGroup) => new Producer({ ...options, producerGroup, enableMsgTrace: false }),
    );
  }

  get logger() {
    return this.client.logger;
  }

  get clientId(): string {
    return this.client.clientId;
  }

  /**
   * Subscribes `topic` with a tag expression (`"*"` or `"TagA || TagB"`) or a selector:
   * `MessageSelector.bySql("a > 5 AND region = 'eu'")` needs brokers with `enablePropertyFilter`.
   */
  subscribe(topic: string, selector: string | MessageSelector = '*'): void {
    this.subscriptions.set(topic, subscriptionOf(topic, selector));
  }

  /** Consumes batches in parallel; a failed message comes back later through %RETRY%group. */
  listenConcurrently(listener: ConcurrentListener): void {
    this.orderly = false;
    this.consumeService = new ConcurrentConsumeService(
      this,
      this.trace
        ? traceListener(this.trace, this.group, listener, (s) => s === 'CONSUME_SUCCESS')
        : listener,
      this.options.consumeConcurrency ?? 20,
    );
  }

  /** Consumes each queue in order, holding a broker lock on it (clustering). */
  listenOrderly(listener: OrderlyListener): void {
    this.orderly = true;
    this.consumeService = new OrderlyConsumeService(
      this,
      this.trace
        ? traceListener(this.trace, this.group, listener, (s) => s === 'SUCCESS')
        : listener,
      this.options.suspendCurrentQueueTimeMillis ?? 1000,
    );
  }

  topics(): Iterable<string> {
    return this.subscriptions.keys();
  }

  consumerData(): ConsumerData {
    return {
      consumeFromWhere: this.options.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET',
      consumeType: 'CONSUME_PASSIVELY',
      groupName: this.group,
      messageModel: this.clustering ? 'CLUSTERING' : 'BROADCASTING',
      subscriptionDataSet: [...this.subscriptions.values()],
      unitMode: false,
    };
  }

  async start(): Promise<void> {
    if (!this.consumeService) throw new Error('register a listener before start()');
    if (this.subscriptions.size === 0) throw new Error('subscribe a topic before start()');
    if (this.clustering) this.subscribe(`%RETRY%${this.group}`, '*');
    try {
      await this.checkClientInBroker();
    } catch (err) {
      this.client.shutdown();
      throw err;
    }
    this.running = true;
    await this.offsetStore.load();
    this.client.register(this);
    this.client.register(this.retryProducer);
    this.client.onRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (r) => this.onIdsChanged(r));
    this.client.onRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, (r) => this.onResetOffset(r));
    this.client.onRequest(RequestCode.GET_CONSUMER_RUNNING_INFO, (r) => this.runningInfo(r));
    await this.client.start();
    await this.trace?.start();
    await this.rebalance();
    this.client.every(this.options.rebalanceIntervalMs ?? 20_000, () => this.rebalance());
    this.client.every(this.options.persistConsumerOffsetIntervalMs ?? 5000, () =>
      this.persistOffsets(false),
    );
    if (this.orderly && this.clustering) {
      this.client.every(this.options.lockIntervalMs ?? 20_000, () => this.lockAll());
    }
  }

  /** Stops pulling, lets running listeners finish, commits offsets, unlocks and unregisters. */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.rebalancing;
    const owned = [...this.processQueues.values()];
    for (const { pq } of owned) pq.dropped = true;
    await this.consumeService?.idle();
    await this.trace?.shutdown();
    await this.persistOffsets(true);
    if (this.orderly && this.clustering) await this.unlock(owned.map((o) => o.mq));
    this.processQueues.clear();
    await this.client.unregisterGroup({ consumerGroup: this.group });
    this.client.shutdown();
  }

  /** The queues this member currently consumes. */
  assignedQueues(): MessageQueue[] {
    return [...this.processQueues.values()].map((o) => o.mq).sort(compareQueues);
  }

  /**
   * Java's `checkClientInBroker`: asks the brokers of each non-tag subscription's topic with
   * CHECK_CLIENT_CONFIG whether they can filter by it, so a broker without
   * `enablePropertyFilter`, or a bad SQL92 expression, fails start() with the broker's code and
   * message. A broker that cannot be reached is only logged: its heartbeat and pull paths refuse
   * the same subscription later.
   */
  private async checkClientInBroker(): Promise<void> {
    for (const sub of this.subscriptions.values()) {
      if (isTagSubscription(sub)) continue;
      const route = await this.client.routes.fetch(sub.topic).catch((err: unknown) => {
        this.logger.warn({ topic: sub.topic, err: String(err) }, 'no route to check subscription');
        return undefined;
      });
      const addrs = (route?.brokerDatas ?? []).flatMap((b) => {
        const addr = this.client.routes.readAddr(b.brokerName);
        return addr ? [addr] : [];
      });
      for (const addr of addrs) {
        try {
          await this.client.broker.checkClientConfig(addr, {
            clientId: this.clientId,
            group: this.group,
            subscriptionData: sub,
          });
        } catch (err) {
          if (!(err instanceof RemotingError)) {
            this.logger.warn({ broker: addr, err: String(err) }, 'checking subscription failed');
            continue;
          }
          throw new RemotingError(
            err.code,
            `broker ${addr} refused the ${sub.expressionType} subscription of topic ` +
              `${sub.topic} (${JSON.stringify(sub.subString)}): ${err.message}`,
          );
        }
      }
    }
  }

  // ------------------------------------------------------------ rebalance

  /** Recomputes this member's queues; concurrent calls coalesce into one more run. */
  rebalance(): Promise<void> {
    if (this.rebalancing) {
      this.rebalanceAgain = true;
      return this.rebalancing;
    }
    this.rebalancing = (async () => {
      do {
        this.rebalanceAgain = false;
        for (const topic of this.subscriptions.keys()) {
          if (!this.running) return;
          try {
            await this.rebalanceTopic(topic);
          } catch (err) {
            this.logger.warn({ group: this.group, topic, err: String(err) }, 'rebalance failed');
          }
        }
      } while (this.rebalanceAgain && this.running);
    })().finally(() => (this.rebalancing = undefined));
    return this.rebalancing;
  }

  private async rebalanceTopic(topic: string): Promise<void> {
    let route = this.client.routes.cached(topic);
    if (!route) {
      route = await this.client.routes.fetch(topic);
      if (!route) {
        this.logger.warn({ group: this.group, topic }, 'no route for subscribed topic');
        return;
      }
      // A topic created after we started may live on brokers that have not heard from us.
      await this.client.heartbeat();
    }
    const mqAll = subscribeQueues(topic, route);
    let mine = mqAll;
    if (this.clustering) {
      const brokerName =
        route.brokerDatas[Math.floor(Math.random() * route.brokerDatas.length)]?.brokerName;
      const addr = brokerName && this.client.routes.readAddr(brokerName);
      if (!addr) return;
      const cidAll = (await this.client.broker.consumerIds(addr, this.group)).sort();
      mine = this.allocate.allocate(this.clientId, mqAll, cidAll);
    }
    await this.applyAssignment(topic, mine);
  }

  private async applyAssignment(topic: string, mine: readonly MessageQueue[]): Promise<void> {
    const wanted = new Set(mine.map(queueKey));
    for (const [key, { mq, pq }] of this.processQueues) {
      if (mq.topic === topic && !wanted.has(key)) await this.removeQueue(key, mq, pq);
    }
    for (const mq of mine) {
      const key = queueKey(mq);
      if (this.processQueues.has(key) || !this.running) continue;
      if (this.orderly && this.clustering && !(await this.lockOne(mq))) continue;
      const offset = await this.computePullFromWhere(mq);
      if (offset < 0 || !this.running) continue;
      const pq = new ProcessQueue();
      if (this.orderly && this.clustering) {
        pq.locked = true;
        pq.lastLockTimestamp = Date.now();
      }
      this.offsetStore.update(mq, offset, false);
      this.processQueues.set(key, { mq, pq });
      this.logger.info({ group: this.group, mq, offset }, 'queue assigned');
      void this.pullLoop(mq, pq, offset);
    }
  }

  /** Gives a queue up: stop pulling, let its listener finish, commit its offset, unlock it. */
  private async removeQueue(key: string, mq: MessageQueue, pq: ProcessQueue): Promise<void> {
    pq.dropped = true;
    this.processQueues.delete(key);
    await pq.orderlyRun;
    if (this.clustering) {
      await this.offsetStore.persist([mq], true);
      this.offsetStore.remove(mq);
      if (this.orderly) await this.unlock([mq]);
    }
    this.logger.info({ group: this.group, mq }, 'queue released');
  }

  /** Where a newly assigned queue starts (§11.1 computePullFromWhere); -1 to skip it this round. */
  private async computePullFromWhere(mq: MessageQueue): Promise<number> {
    let stored: number | undefined;
    try {
      stored = await this.offsetStore.readFromStore(mq);
    } catch (err) {
      this.logger.warn({ mq, err: String(err) }, 'reading the consume offset failed');
      return -1;
    }
    if (stored !== undefined && stored >= 0) return stored;
    const addr = this.client.routes.masterAddr(mq.brokerName);
    if (!addr) return -1;
    const isRetry = mq.topic.startsWith('%RETRY%');
    try {
      switch (this.options.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET') {
        case 'CONSUME_FROM_FIRST_OFFSET':
          return 0;
        case 'CONSUME_FROM_TIMESTAMP':
          if (isRetry) return await this.client.broker.maxOffset(addr, mq);
          return await this.client.broker.searchOffset(
            addr,
            mq,
            this.options.consumeTimestamp ?? Date.now() - 30 * 60_000,
          );
        default:
          return isRetry ? 0 : await this.client.broker.maxOffset(addr, mq);
      }
    } catch (err) {
      this.logger.warn({ mq, err: String(err) }, 'computing the start offset failed');
      return -1;
    }
  }

  // ------------------------------------------------------------ pulling

  private async pullLoop(mq: MessageQueue, pq: ProcessQueue, startOffset: number): Promise<void> {
    let nextOffset = startOffset;
    const sub = this.subscriptions.get(mq.topic);
    if (!sub) return;
    const threshold = this.options.pullThresholdForQueue ?? 1000;
    while (!pq.dropped && this.running) {
      if (pq.count >= threshold) {
        await sleep(PULL_DELAY_WHEN_FLOW_CONTROL_MS);
        continue;
      }
      if (this.orderly && this.clustering && !pq.locked) {
        await sleep(PULL_DELAY_WHEN_NOT_LOCKED_MS);
        continue;
      }
      const addr = this.client.routes.readAddr(mq.brokerName);
      const commitOffset = this.clustering ? (this.offsetStore.read(mq) ?? 0) : 0;
      const post = this.options.postSubscriptionWhenPull ?? false;
      let sysFlag = PullSysFlag.SUSPEND;
      if (commitOffset > 0) sysFlag |= PullSysFlag.COMMIT_OFFSET;
      if (post) sysFlag |= PullSysFlag.SUBSCRIPTION;
      try {
        if (!addr) throw new Error(`no address for broker ${mq.brokerName}`);
        const result = await this.client.broker.pull(
          addr,
          mq.brokerName,
          {
            consumerGroup: this.group,
            topic: mq.topic,
            queueId: mq.queueId,
            queueOffset: nextOffset,
            maxMsgNums: this.options.pullBatchSize ?? 32,
            sysFlag,
            commitOffset,
            suspendTimeoutMillis: BROKER_SUSPEND_MAX_MS,
            subscription: post ? sub.subString : undefined,
            subVersion: sub.subVersion,
            expressionType: post ? sub.expressionType : undefined,
            bname: mq.brokerName,
          },
          PULL_RPC_TIMEOUT_MS,
        );
        if (pq.dropped) return;
        switch (result.status) {
          case 'FOUND': {
            nextOffset = result.nextBeginOffset;
            const msgs = result.messages.filter((m) => matchesSubscription(sub, m.tags));
            for (const m of msgs) {
              m.properties.set(MessageConst.MIN_OFFSET, String(result.minOffset));
              m.properties.set(MessageConst.MAX_OFFSET, String(result.maxOffset));
            }
            pq.add(msgs);
            pq.pulledUpTo(nextOffset);
            if (msgs.length === 0) {
              if (pq.count === 0) this.offsetStore.update(mq, nextOffset, true);
              break;
            }
            this.consumeService?.submit(pq, mq, msgs);
            break;
          }
          case 'NO_NEW_MSG':
          case 'NO_MATCHED_MSG':
            nextOffset = result.nextBeginOffset;
            pq.pulledUpTo(nextOffset);
            if (pq.count === 0) this.offsetStore.update(mq, nextOffset, true);
            break;
          case 'OFFSET_ILLEGAL':
            this.logger.warn(
              { mq, offset: nextOffset, next: result.nextBeginOffset },
              'pull offset illegal',
            );
            pq.dropped = true;
            this.offsetStore.update(mq, result.nextBeginOffset, false);
            await this.offsetStore.persist([mq], true);
            this.processQueues.delete(queueKey(mq));
            void this.rebalance();
            return;
        }
      } catch (err) {
        if (!this.running || pq.dropped) return;
        this.logger.warn({ mq, err: String(err) }, 'pull failed; retrying in 3 s');
        // A broker that lost our subscription (restarted, or new to us) learns it again from a
        // heartbeat; Java waits for the next periodic one.
        if (err instanceof RemotingError && SUBSCRIPTION_LOST.has(err.code)) {
          void this.client.heartbeat();
        }
        await sleep(PULL_DELAY_ON_ERROR_MS);
      }
    }
  }

  // ------------------------------------------------------------ offsets, retries, locks

  private async persistOffsets(acknowledged: boolean): Promise<void> {
    const mqs = [...this.processQueues.values()].map((o) => o.mq);
    await this.offsetStore.persist(mqs, acknowledged);
  }

  /**
   * CONSUMER_SEND_MSG_BACK to the message's broker; if that fails, sends the message to
   * %RETRY%group ourselves (with the retry properties the broker would have set).
   */
  async sendMessageBack(msg: MessageExt, delayLevel: number): Promise<boolean> {
    const maxReconsumeTimes = this.options.maxReconsumeTimes ?? 16;
    const originTopic = msg.properties.get(MessageConst.RETRY_TOPIC) ?? msg.topic;
    try {
      const addr =
        this.client.routes.masterAddr(msg.brokerName) ??
        `${msg.storeHost.ip}:${msg.storeHost.port}`;
      await this.client.broker.sendBack(addr, {
        offset: msg.physicalOffset,
        group: this.group,
        delayLevel,
        originMsgId: msg.msgId,
        originTopic,
        unitMode: false,
        maxReconsumeTimes,
      });
      return true;
    } catch (err) {
      this.logger.warn(
        { msgId: msg.msgId, err: String(err) },
        'send back failed; resending to retry topic',
      );
    }
    try {
      const properties = Object.fromEntries(msg.properties);
      properties[MessageConst.RETRY_TOPIC] = originTopic;
      properties[MessageConst.ORIGIN_MESSAGE_ID] ??= msg.msgId;
      properties[MessageConst.RECONSUME_TIME] = String(msg.reconsumeTimes + 1);
      properties[MessageConst.MAX_RECONSUME_TIMES] = String(maxReconsumeTimes);
      delete properties[MessageConst.TRAN_MSG];
      delete properties[MessageConst.MIN_OFFSET];
      delete properties[MessageConst.MAX_OFFSET];
      await this.retryProducer.send({
        topic: `%RETRY%${this.group}`,
        body: msg.body,
        flag: msg.flag,
        delayTimeLevel: 3 + msg.reconsumeTimes,
        properties,
      });
      return true;
    } catch (err) {
      this.logger.warn({ msgId: msg.msgId, err: String(err) }, 'resending to retry topic failed');
      return false;
    }
  }

  private lockBody(mqs: readonly MessageQueue[]) {
    return { clientId: this.clientId, consumerGroup: this.group, mqSet: mqs.map(queueJson) };
  }

  private async lockOne(mq: MessageQueue): Promise<boolean> {
    const addr = this.client.routes.masterAddr(mq.brokerName);
    if (!addr) return false;
    try {
      const granted = await this.client.broker.lockBatch(addr, this.lockBody([mq]));
      return granted.some((g) => queueKey(g) === queueKey(mq));
    } catch (err) {
      this.logger.warn({ mq, err: String(err) }, 'lock failed');
      return false;
    }
  }

  /** Renews the locks of every owned queue, per broker; resumes consumption where granted. */
  private async lockAll(): Promise<void> {
    const byBroker = new Map<string, { mq: MessageQueue; pq: ProcessQueue }[]>();
    for (const owned of this.processQueues.values()) {
      const list = byBroker.get(owned.mq.brokerName) ?? [];
      list.push(owned);
      byBroker.set(owned.mq.brokerName, list);
    }
    for (const [brokerName, owned] of byBroker) {
      const addr = this.client.routes.masterAddr(brokerName);
      if (!addr) continue;
      try {
        const granted = new Set(
          (await this.client.broker.lockBatch(addr, this.lockBody(owned.map((o) => o.mq)))).map(
            queueKey,
          ),
        );
        for (const { mq, pq } of owned) {
          pq.locked = granted.has(queueKey(mq));
          if (pq.locked) {
            pq.lastLockTimestamp = Date.now();
            this.consumeService?.submit(pq, mq, []);
          }
        }
      } catch (err) {
        this.logger.warn({ broker: brokerName, err: String(err) }, 'lock renewal failed');
      }
    }
  }

  private async unlock(mqs: readonly MessageQueue[]): Promise<void> {
    const byBroker = new Map<string, MessageQueue[]>();
    for (const mq of mqs) byBroker.set(mq.brokerName, [...(byBroker.get(mq.brokerName) ?? []), mq]);
    await Promise.all(
      [...byBroker].map(async ([brokerName, list]) => {
        const addr = this.client.routes.masterAddr(brokerName);
        if (!addr) return;
        await this.client.broker
          .unlockBatch(addr, this.lockBody(list))
          .catch((err: unknown) =>
            this.logger.warn({ brokerName, err: String(err) }, 'unlock failed'),
          );
      }),
    );
  }

  // ------------------------------------------------------------ requests from brokers

  private onIdsChanged(request: RemotingCommand): undefined {
    const { consumerGroup } = NotifyConsumerIdsChangedRequestHeader.decode(request.extFields);
    if (consumerGroup === this.group && this.running) {
      this.logger.info({ group: this.group }, 'consumer ids changed; rebalancing');
      void this.rebalance();
    }
    return undefined;
  }

  private async onResetOffset(request: RemotingCommand) {
    const { topic, group } = ResetOffsetRequestHeader.decode(request.extFields);
    if (group === this.group) {
      const { offsetTable } = decodeResetOffsetBody(request.body);
      for (const [mq, offset] of offsetTable) {
        if (mq.topic !== topic) continue;
        const key = queueKey(mq);
        const owned = this.processQueues.get(key);
        if (owned) {
          owned.pq.dropped = true;
          this.processQueues.delete(key);
        }
        this.offsetStore.update(mq, offset, false);
        await this.offsetStore.persist([mq], true);
        this.logger.info({ group, mq, offset }, 'consume offset reset by broker');
      }
      void this.rebalance();
    }
    return createResponse(request, ResponseCode.SUCCESS);
  }

  /** A minimal ConsumerRunningInfo: properties, subscriptions and the owned queues. */
  private runningInfo(request: RemotingCommand) {
    const { consumerGroup } = GetConsumerRunningInfoRequestHeader.decode(request.extFields);
    if (consumerGroup !== this.group) {
      return createResponse(request, ResponseCode.SYSTEM_ERROR, {
        remark: `The Consumer Group <${consumerGroup}> not exist in this consumer`,
      });
    }
    const mqTable = new Map<MessageQueue, object>();
    for (const { mq, pq } of this.processQueues.values()) {
      mqTable.set(queueJson(mq), {
        cachedMsgCount: pq.count,
        commitOffset: this.offsetStore.read(mq) ?? -1,
        droped: pq.dropped,
        locked: pq.locked,
      });
    }
    const data = this.consumerData();
    const properties = {
      PROP_CLIENT_VERSION: 'V4_9_8',
      PROP_CONSUMEORDERLY: String(this.orderly),
      PROP_CONSUMER_START_TIMESTAMP: String(this.startedAt),
      PROP_CONSUME_TYPE: data.consumeType,
      PROP_THREADPOOL_CORE_SIZE: String(this.options.consumeConcurrency ?? 20),
      consumeFromWhere: data.consumeFromWhere,
      messageModel: data.messageModel,
    };
    const body =
      `{"jstack":"","mqTable":${encodeMessageQueueMap(mqTable)},` +
      `"properties":${JSON.stringify(properties)},"statusTable":{},` +
      `"subscriptionSet":${JSON.stringify(data.subscriptionDataSet)}}`;
    return createResponse(request, ResponseCode.SUCCESS, { body: Buffer.from(body, 'utf8') });
  }
}
