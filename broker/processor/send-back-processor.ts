import { createOffsetMsgId } from '../../common/message/message-id';
import { encodeProperties, MessageConst } from '../../common/message/properties';
import { decodeRecord, RecordError } from '../../common/message/record';
import { Perm } from '../../common/protocol/bodies';
import { ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import { ConsumerSendMsgBackRequestHeader } from '../../common/protocol/headers';
import type { BrokerContext } from '../broker-context';
import { dlqTopicOf, retryTopicOf } from '../metadata/system-topics';
import { isWriteable } from '../metadata/topic-config-manager';
import type { MessageToStore } from '../store/message-types';
import { isStored } from '../store/status';
import { putReplicated } from './replicated-put';

/** Retry messages wait `3 + reconsumeTimes` levels: 10 s, 30 s, 1 m, … (§11.2). */
const RETRY_BASE_LEVEL = 3;
/** A DLQ has one queue (MixAll.DLQ_NUMS_PER_GROUP). */
const DLQ_QUEUE_NUMS = 1;

/**
 * CONSUMER_SEND_MSG_BACK (36): a consumer could not process a message; the broker stores a copy
 * in `%RETRY%<group>` that comes back after a delay, or in `%DLQ%<group>` once the group's
 * reconsume limit is reached (broker-internals.md §11.2, remoting.md §6.10).
 *
 * Unlike Java the copy is stored without `WAIT=false`: in SYNC_FLUSH (and SYNC_MASTER) the answer
 * waits for the flush (and a slave), so a consumer that commits its offset after the answer
 * cannot lose the message.
 */
export class SendBackProcessor {
  constructor(private readonly ctx: BrokerContext) {}

  handle = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const h = ConsumerSendMsgBackRequestHeader.decode(request.extFields);
    const { ctx } = this;
    const group = ctx.subscriptionGroups.findOrCreate(h.group);
    if (!group) {
      throw new RemotingError(
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group not exist, ${h.group}`,
      );
    }
    if (!isWriteable(ctx.config.brokerPermission)) {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `the broker[${ctx.config.brokerIP1}] sending message is forbidden`,
      );
    }
    // A group without retry queues drops failed messages (Java answers SUCCESS too).
    if (group.retryQueueNums <= 0) return createResponse(request, ResponseCode.SUCCESS);

    const retryTopic = retryTopicOf(h.group);
    const retryConfig = await ctx.topics.getOrCreate(
      retryTopic,
      group.retryQueueNums,
      Perm.READ | Perm.WRITE,
    );
    if (!isWriteable(retryConfig.perm)) {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `the topic[${retryTopic}] sending message is forbidden`,
      );
    }
    const original = await this.lookUp(h.offset);
    const props = original.properties;
    if (!props.has(MessageConst.RETRY_TOPIC)) props.set(MessageConst.RETRY_TOPIC, original.topic);
    if (!props.has(MessageConst.ORIGIN_MESSAGE_ID)) {
      props.set(
        MessageConst.ORIGIN_MESSAGE_ID,
        createOffsetMsgId(original.storeHost, original.physicalOffset),
      );
    }

    const maxReconsumeTimes = h.maxReconsumeTimes ?? group.retryMaxTimes;
    let topic = retryTopic;
    let queueId = Math.floor(Math.random() * retryConfig.writeQueueNums);
    if (original.reconsumeTimes >= maxReconsumeTimes || h.delayLevel < 0) {
      topic = dlqTopicOf(h.group);
      queueId = 0;
      await ctx.topics.getOrCreate(topic, DLQ_QUEUE_NUMS, Perm.READ | Perm.WRITE);
      // A dead letter is stored at once.
      props.delete(MessageConst.DELAY);
      ctx.logger.info(
        { group: h.group, originTopic: original.topic, reconsumeTimes: original.reconsumeTimes },
        'message exhausted its reconsume times, stored into the DLQ',
      );
    } else {
      const level = h.delayLevel > 0 ? h.delayLevel : RETRY_BASE_LEVEL + original.reconsumeTimes;
      props.set(MessageConst.DELAY, String(level));
    }

    const msg: MessageToStore = {
      topic,
      queueId,
      flag: original.flag,
      sysFlag: original.sysFlag,
      bornTimestamp: original.bornTimestamp,
      bornHost: original.bornHost,
      storeHost: ctx.storeHost,
      reconsumeTimes: original.reconsumeTimes + 1,
      preparedTransactionOffset: original.preparedTransactionOffset,
      body: original.body,
      properties: encodeProperties(props),
    };
    const result = await putReplicated(ctx, () => ctx.store.putMessage(msg));
    if (!isStored(result.status)) {
      ctx.logger.warn(
        { group: h.group, topic, status: result.status, remark: result.remark },
        'send-back message not stored',
      );
      return createResponse(request, ResponseCode.SYSTEM_ERROR, {
        remark: result.remark || result.status,
      });
    }
    ctx.stats.messagesPut(1);
    ctx.metrics.countPut(topic, 1, result.wroteBytes);
    return createResponse(request, ResponseCode.SUCCESS);
  };

  /** The failed message, read back by its CommitLog offset. */
  private async lookUp(offset: number) {
    const stored = await this.ctx.store.lookMessageByOffset(offset);
    if (!stored) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `look message by offset failed, ${offset}`,
      );
    }
    try {
      return decodeRecord(stored);
    } catch (err) {
      if (err instanceof RecordError) {
        throw new RemotingError(
          ResponseCode.SYSTEM_ERROR,
          `look message by offset failed, ${offset}: ${err.message}`,
        );
      }
      throw err;
    }
  }
}
