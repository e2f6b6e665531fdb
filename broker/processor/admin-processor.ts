import { encodeJsonBody, type KVTable, type TopicConfig } from '../../common/protocol/bodies';
import {
  type ConsumeStats,
  type ConsumerConnection,
  decodeSubscriptionGroupConfig,
  encodeConsumeStats,
  encodeTopicStatsTable,
  type GroupList,
  type MessageQueue,
  type OffsetWrapper,
  type ProducerConnection,
  type TopicOffset,
} from '../../common/protocol/broker-bodies';
import { OUR_VERSION, OUR_VERSION_NAME, ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import {
  ConsumerGroupRequestHeader,
  CreateTopicRequestHeader,
  DeleteSubscriptionGroupRequestHeader,
  GetConsumeStatsRequestHeader,
  ProducerGroupRequestHeader,
  TopicRequestHeader,
} from '../../common/protocol/headers';
import type { BrokerContext } from '../broker-context';
import { connectionInfo } from '../client/client-channel';
import {
  AUTO_CREATE_TOPIC_KEY,
  isRetryTopic,
  SCHEDULE_TOPIC,
  topicNameProblem,
} from '../metadata/system-topics';

const BOOT_TIMESTAMP = Date.now();

/**
 * Admin requests of mqadmin and dashboards (remoting.md §3.6): topics, subscription groups,
 * runtime info, topic and consume statistics, connection lists.
 */
export class AdminProcessor {
  constructor(private readonly ctx: BrokerContext) {}

  updateAndCreateTopic = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const h = CreateTopicRequestHeader.decode(request.extFields);
    const problem = topicNameProblem(h.topic);
    if (problem) throw new RemotingError(ResponseCode.SYSTEM_ERROR, problem);
    if (h.topic === AUTO_CREATE_TOPIC_KEY || h.topic === SCHEDULE_TOPIC) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `The topic[${h.topic}] is conflict with system topic.`,
      );
    }
    if (h.readQueueNums <= 0 || h.writeQueueNums <= 0 || h.perm < 0 || h.perm > 7) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `invalid queue numbers or perm for topic ${h.topic}`,
      );
    }
    const config: TopicConfig = {
      order: h.order,
      perm: h.perm,
      readQueueNums: h.readQueueNums,
      topicFilterType: h.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
      topicName: h.topic,
      topicSysFlag: h.topicSysFlag ?? 0,
      writeQueueNums: h.writeQueueNums,
    };
    await this.ctx.topics.update(config);
    await this.ctx.registerBroker();
    return createResponse(request, ResponseCode.SUCCESS);
  };

  deleteTopic = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const { topic } = TopicRequestHeader.decode(request.extFields);
    await this.ctx.topics.delete(topic);
    this.ctx.offsets.removeTopic(topic);
    await this.ctx.store.deleteTopics([topic]);
    await this.ctx.registerBroker();
    return createResponse(request, ResponseCode.SUCCESS);
  };

  getAllTopicConfig = (request: RemotingCommand): OutgoingCommand =>
    createResponse(request, ResponseCode.SUCCESS, {
      body: encodeJsonBody(this.ctx.topics.serializeWrapper()),
    });

  updateAndCreateSubscriptionGroup = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    await this.ctx.subscriptionGroups.update(decodeSubscriptionGroupConfig(request.body));
    return createResponse(request, ResponseCode.SUCCESS);
  };

  getAllSubscriptionGroupConfig = (request: RemotingCommand): OutgoingCommand =>
    createResponse(request, ResponseCode.SUCCESS, {
      body: encodeJsonBody(this.ctx.subscriptionGroups.wrapper()),
    });

  deleteSubscriptionGroup = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const h = DeleteSubscriptionGroupRequestHeader.decode(request.extFields);
    await this.ctx.subscriptionGroups.delete(h.groupName);
    if (h.removeOffset) this.ctx.offsets.removeGroup(h.groupName);
    return createResponse(request, ResponseCode.SUCCESS);
  };

  getBrokerRuntimeInfo = (request: RemotingCommand): OutgoingCommand => {
    const { config, store } = this.ctx;
    const table: Record<string, string> = {
      ...store.runtimeInfo(),
      ...this.ctx.schedule?.runtimeInfo(),
      ...this.ctx.stats.runtimeInfo(),
      brokerVersionDesc: OUR_VERSION_NAME,
      brokerVersion: String(OUR_VERSION),
      bootTimestamp: String(BOOT_TIMESTAMP),
      runtime: runtimeText(Date.now() - BOOT_TIMESTAMP),
      brokerName: config.brokerName,
      brokerClusterName: config.brokerClusterName,
      commitLogMinOffset: String(store.getMinPhyOffset()),
      commitLogMaxOffset: String(store.getMaxPhyOffset()),
    };
    const body: KVTable = { table };
    return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(body) });
  };

  getTopicStatsInfo = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const { topic } = TopicRequestHeader.decode(request.extFields);
    const config = this.topicOrThrow(topic);
    const { store } = this.ctx;
    const offsetTable = new Map<MessageQueue, TopicOffset>();
    for (let queueId = 0; queueId < config.writeQueueNums; queueId++) {
      const maxOffset = store.getMaxOffsetInQueue(topic, queueId);
      offsetTable.set(this.queue(topic, queueId), {
        lastUpdateTimestamp:
          maxOffset > 0 ? await store.getMessageStoreTimestamp(topic, queueId, maxOffset - 1) : 0,
        maxOffset,
        minOffset: store.getMinOffsetInQueue(topic, queueId),
      });
    }
    return createResponse(request, ResponseCode.SUCCESS, {
      body: encodeTopicStatsTable({ offsetTable }),
    });
  };

  getConsumeStats = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const h = GetConsumeStatsRequestHeader.decode(request.extFields);
    const { offsets, store, consumers } = this.ctx;
    const topics = h.topic ? [h.topic] : offsets.topicsOfGroup(h.consumerGroup);
    const group = consumers.get(h.consumerGroup);
    const offsetTable = new Map<MessageQueue, OffsetWrapper>();
    for (const topic of topics) {
      const config = this.ctx.topics.get(topic);
      if (!config) continue;
      // Topics the live group no longer subscribes to are skipped, as Java does.
      if (!h.topic && group && !group.subscriptions.has(topic)) continue;
      for (let queueId = 0; queueId < config.readQueueNums; queueId++) {
        const consumerOffset = Math.max(0, offsets.query(h.consumerGroup, topic, queueId));
        offsetTable.set(this.queue(topic, queueId), {
          brokerOffset: store.getMaxOffsetInQueue(topic, queueId),
          consumerOffset,
          lastTimestamp:
            consumerOffset > 0
              ? await store.getMessageStoreTimestamp(topic, queueId, consumerOffset - 1)
              : 0,
        });
      }
    }
    const stats: ConsumeStats = { consumeTps: 0, offsetTable };
    return createResponse(request, ResponseCode.SUCCESS, { body: encodeConsumeStats(stats) });
  };

  getConsumerConnectionList = (request: RemotingCommand): OutgoingCommand => {
    const { consumerGroup } = ConsumerGroupRequestHeader.decode(request.extFields);
    const group = this.ctx.consumers.get(consumerGroup);
    if (!group) {
      throw new RemotingError(
        ResponseCode.CONSUMER_NOT_ONLINE,
        `the consumer group[${consumerGroup}] not online`,
      );
    }
    const body: ConsumerConnection = {
      connectionSet: [...group.channels.values()].map(connectionInfo),
      consumeFromWhere: group.consumeFromWhere,
      consumeType: group.consumeType,
      messageModel: group.messageModel,
      subscriptionTable: Object.fromEntries(group.subscriptions),
    };
    return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(body) });
  };

  getProducerConnectionList = (request: RemotingCommand): OutgoingCommand => {
    const { producerGroup } = ProducerGroupRequestHeader.decode(request.extFields);
    const body: ProducerConnection = {
      connectionSet: this.ctx.producers.channels(producerGroup).map(connectionInfo),
    };
    return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(body) });
  };

  queryTopicConsumeByWho = (request: RemotingCommand): OutgoingCommand => {
    const { topic } = TopicRequestHeader.decode(request.extFields);
    const groups = new Set(this.ctx.offsets.groupsOfTopic(topic));
    for (const name of this.ctx.consumers.groupNames()) {
      if (this.ctx.consumers.findSubscription(name, topic)) groups.add(name);
    }
    const body: GroupList = { groupList: [...groups].filter((g) => !isRetryTopic(g)) };
    return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(body) });
  };

  private topicOrThrow(topic: string): TopicConfig {
    const config = this.ctx.topics.get(topic);
    if (!config) {
      throw new RemotingError(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist`);
    }
    return config;
  }

  private queue(topic: string, queueId: number): MessageQueue {
    return { brokerName: this.ctx.config.brokerName, queueId, topic };
  }
}

/** `[ 0 days, 1 hours, 2 minutes, 3 seconds ]`, as the Java broker formats its uptime. */
function runtimeText(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `[ ${Math.floor(s / 86400)} days, ${Math.floor((s % 86400) / 3600)} hours, ${Math.floor((s % 3600) / 60)} minutes, ${s % 60} seconds ]`;
}
