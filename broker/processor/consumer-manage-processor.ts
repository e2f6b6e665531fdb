import { totalmem } from 'node:os';
import { readPhysicalOffset } from '../../common/message/record';
import {
  decodeLockBatchRequestBody,
  type ConsumerListBody,
  type LockBatchResponseBody,
} from '../../common/protocol/broker-bodies';
import { encodeJsonBody } from '../../common/protocol/bodies';
import { ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import {
  GetConsumerListByGroupRequestHeader,
  OffsetResponseHeader,
  QueryConsumerOffsetRequestHeader,
  UpdateConsumerOffsetRequestHeader,
} from '../../common/protocol/headers';
import type { BrokerContext } from '../broker-context';

/**
 * Group membership and offsets: GET_CONSUMER_LIST_BY_GROUP (38), QUERY_CONSUMER_OFFSET (14),
 * UPDATE_CONSUMER_OFFSET (15), LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42).
 */
export class ConsumerManageProcessor {
  constructor(private readonly ctx: BrokerContext) {}

  getConsumerList = (request: RemotingCommand): OutgoingCommand => {
    const { consumerGroup } = GetConsumerListByGroupRequestHeader.decode(request.extFields);
    const ids = this.ctx.consumers.get(consumerGroup)?.clientIds() ?? [];
    if (ids.length === 0) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `no consumer for this group, ${consumerGroup}`,
      );
    }
    const body: ConsumerListBody = { consumerIdList: ids };
    return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(body) });
  };

  queryConsumerOffset = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const h = QueryConsumerOffsetRequestHeader.decode(request.extFields);
    let offset = this.ctx.offsets.query(h.consumerGroup, h.topic, h.queueId);
    if (offset < 0 && (await this.youngQueue(h.topic, h.queueId))) offset = 0;
    if (offset < 0) {
      return createResponse(request, ResponseCode.QUERY_NOT_FOUND, {
        remark: 'Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first',
      });
    }
    return createResponse(request, ResponseCode.SUCCESS, {
      extFields: OffsetResponseHeader.encode({ offset }),
    });
  };

  /**
   * Java 4.9.8's answer for a group without a committed offset (remoting.md §7.6): offset 0 when
   * the queue still starts at 0 and its first message is still in memory, so a new group on a
   * young queue reads it from the start; otherwise "not found" (start from the end).
   */
  private async youngQueue(topic: string, queueId: number): Promise<boolean> {
    const { store, config } = this.ctx;
    if (store.getMinOffsetInQueue(topic, queueId) > 0) return false;
    if (store.getMaxOffsetInQueue(topic, queueId) === 0) return true;
    const first = await store.getMessage({ topic, queueId, offset: 0, maxMsgNums: 1 });
    if (first.messages.length === 0) return false;
    const inMemory = (totalmem() * config.accessMessageInMemoryMaxRatio) / 100;
    return store.getMaxPhyOffset() - readPhysicalOffset(first.messages[0], 0) <= inMemory;
  }

  updateConsumerOffset = (request: RemotingCommand): OutgoingCommand => {
    const h = UpdateConsumerOffsetRequestHeader.decode(request.extFields);
    this.ctx.offsets.commit(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    return createResponse(request, ResponseCode.SUCCESS);
  };

  lockBatch = (request: RemotingCommand): OutgoingCommand => {
    const body = decodeLockBatchRequestBody(request.body);
    const granted = this.ctx.locks.tryLockBatch(body.consumerGroup, body.mqSet, body.clientId);
    const response: LockBatchResponseBody = { lockOKMQSet: granted };
    return createResponse(request, ResponseCode.SUCCESS, { body: encodeJsonBody(response) });
  };

  unlockBatch = (request: RemotingCommand): OutgoingCommand => {
    const body = decodeLockBatchRequestBody(request.body);
    this.ctx.locks.unlockBatch(body.consumerGroup, body.mqSet, body.clientId);
    return createResponse(request, ResponseCode.SUCCESS);
  };
}
