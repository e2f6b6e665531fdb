import type { Connection } from '../../common/net/connection';
import { buildSubscriptionData, type SubscriptionData } from '../../common/protocol/broker-bodies';
import { ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import type { HeaderOf } from '../../common/protocol/header-schema';
import { PullMessageRequestHeader, PullMessageResponseHeader } from '../../common/protocol/headers';
import type { BrokerContext } from '../broker-context';
import { createMessageFilter } from '../filter/sql92-message-filter';
import type { PullRequestHoldService } from '../longpolling/pull-request-hold';
import { isReadable } from '../metadata/topic-config-manager';
import type { GetMessageResult } from '../store/message-store';
import { GetMessageStatus } from '../store/status';

type PullHeader = HeaderOf<(typeof PullMessageRequestHeader)['fields']>;

/** PullSysFlag bits (remoting.md §7.1). */
export const PullSysFlag = { COMMIT_OFFSET: 0x1, SUSPEND: 0x2, SUBSCRIPTION: 0x4 } as const;

/** GetMessageStatus → response code (remoting.md §7.3). */
function responseCodeOf(status: GetMessageStatus, requestOffset: number): number {
  switch (status) {
    case GetMessageStatus.FOUND:
      return ResponseCode.SUCCESS;
    case GetMessageStatus.NO_MATCHED_MESSAGE:
    case GetMessageStatus.MESSAGE_WAS_REMOVING:
      return ResponseCode.PULL_RETRY_IMMEDIATELY;
    case GetMessageStatus.NO_MATCHED_LOGIC_QUEUE:
    case GetMessageStatus.NO_MESSAGE_IN_QUEUE:
      return requestOffset === 0 ? ResponseCode.PULL_NOT_FOUND : ResponseCode.PULL_OFFSET_MOVED;
    case GetMessageStatus.OFFSET_FOUND_NULL:
    case GetMessageStatus.OFFSET_OVERFLOW_ONE:
      return ResponseCode.PULL_NOT_FOUND;
    case GetMessageStatus.OFFSET_OVERFLOW_BADLY:
    case GetMessageStatus.OFFSET_TOO_SMALL:
      return ResponseCode.PULL_OFFSET_MOVED;
  }
}

/**
 * PULL_MESSAGE (11) in the Java broker's order (remoting.md §7.2): permissions, group, topic and
 * queue checks, the subscription (from the request or the heartbeat), the read with the tag
 * filter, the piggy-backed offset commit, and long polling when nothing is there yet.
 */
export class PullMessageProcessor {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly hold: PullRequestHoldService,
  ) {}

  handle = (request: RemotingCommand, conn: Connection): Promise<OutgoingCommand> =>
    this.process(request, conn, true);

  private async process(
    request: RemotingCommand,
    conn: Connection,
    allowSuspend: boolean,
  ): Promise<OutgoingCommand> {
    const h = PullMessageRequestHeader.decode(request.extFields);
    const { config, subscriptionGroups, topics, store } = this.ctx;
    if (!isReadable(config.brokerPermission)) {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `the broker[${config.brokerIP1}] pulling message is forbidden`,
      );
    }
    const groupConfig = subscriptionGroups.findOrCreate(h.consumerGroup);
    if (!groupConfig) {
      throw new RemotingError(
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group [${h.consumerGroup}] does not exist`,
      );
    }
    if (!groupConfig.consumeEnable) {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `subscription group no permission, ${h.consumerGroup}`,
      );
    }
    const topicConfig = topics.get(h.topic);
    if (!topicConfig) {
      throw new RemotingError(
        ResponseCode.TOPIC_NOT_EXIST,
        `topic[${h.topic}] not exist, apply first please!`,
      );
    }
    if (!isReadable(topicConfig.perm)) {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `the topic[${h.topic}] pulling message is forbidden`,
      );
    }
    if (h.queueId < 0 || h.queueId >= topicConfig.readQueueNums) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `queueId[${h.queueId}] is illegal, topic:[${h.topic}] topicConfig.readQueueNums:[${topicConfig.readQueueNums}] consumer:[${conn.remoteAddress}]`,
      );
    }
    const subscription = this.subscriptionOf(h, groupConfig.consumeBroadcastEnable);
    const filter = createMessageFilter(subscription, config.enablePropertyFilter);
    const result = await store.getMessage({
      topic: h.topic,
      queueId: h.queueId,
      offset: h.queueOffset,
      maxMsgNums: h.maxMsgNums,
      filter,
    });
    const code = responseCodeOf(result.status, h.queueOffset);

    // The commit rides on the first processing only, whatever the outcome (§7.2 step 6).
    // A slave ignores the commit riding on a pull (§5.6, §11.1).
    const onMaster = store.brokerRole !== 'SLAVE';
    if (allowSuspend && onMaster && (h.sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0) {
      this.ctx.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    }
    if (
      code === ResponseCode.PULL_NOT_FOUND &&
      allowSuspend &&
      (h.sysFlag & PullSysFlag.SUSPEND) !== 0
    ) {
      const timeoutMs = config.longPollingEnable
        ? h.suspendTimeoutMillis
        : config.shortPollingTimeMills;
      return new Promise((resolve, reject) => {
        this.hold.suspend(h.topic, h.queueId, h.queueOffset, filter, conn, timeoutMs, () => {
          this.process(request, conn, false).then(resolve, reject);
        });
      });
    }
    // §5.6: with slaveReadEnable, cold reads go to the group's slow-consumption broker.
    const suggest = !config.slaveReadEnable
      ? 0
      : result.suggestPullingFromSlave
        ? groupConfig.whichBrokerWhenConsumeSlowly
        : groupConfig.brokerId;
    return this.respond(request, h, code, result, suggest);
  }

  private subscriptionOf(h: PullHeader, broadcastAllowed: boolean): SubscriptionData {
    if ((h.sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) {
      return buildSubscriptionData(
        h.topic,
        h.subscription,
        h.subVersion,
        h.expressionType || 'TAG',
      );
    }
    const group = this.ctx.consumers.get(h.consumerGroup);
    if (!group) {
      throw new RemotingError(
        ResponseCode.SUBSCRIPTION_NOT_EXIST,
        `the consumer's group info not exist, group: ${h.consumerGroup}`,
      );
    }
    if (!broadcastAllowed && group.messageModel === 'BROADCASTING') {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `the consumer group[${h.consumerGroup}] can not consume by broadcast way`,
      );
    }
    const sub = group.subscriptions.get(h.topic);
    if (!sub) {
      throw new RemotingError(
        ResponseCode.SUBSCRIPTION_NOT_EXIST,
        `the consumer's subscription not exist, group: ${h.consumerGroup} topic: ${h.topic}`,
      );
    }
    if (sub.subVersion < h.subVersion) {
      throw new RemotingError(
        ResponseCode.SUBSCRIPTION_NOT_LATEST,
        `the consumer's subscription not latest, group: ${h.consumerGroup}`,
      );
    }
    return sub;
  }

  private respond(
    request: RemotingCommand,
    h: PullHeader,
    code: number,
    result: GetMessageResult,
    suggestWhichBrokerId: number,
  ): OutgoingCommand {
    if (code === ResponseCode.SUCCESS) {
      const labels = { topic: h.topic, group: h.consumerGroup };
      this.ctx.metrics.messagesGot.inc(labels, result.messages.length);
      this.ctx.stats.messagesGot(result.messages.length);
      this.ctx.metrics.bytesGot.inc(labels, result.bufferTotalSize);
    }
    return createResponse(request, code, {
      remark: result.status,
      extFields: PullMessageResponseHeader.encode({
        suggestWhichBrokerId,
        nextBeginOffset: result.nextBeginOffset,
        minOffset: result.minOffset,
        maxOffset: result.maxOffset,
      }),
      body: code === ResponseCode.SUCCESS ? result.messages : undefined,
    });
  }
}
