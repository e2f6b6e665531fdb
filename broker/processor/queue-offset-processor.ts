import { ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import {
  GetEarliestMsgStoretimeResponseHeader,
  OffsetResponseHeader,
  QueueRequestHeader,
  SearchOffsetRequestHeader,
} from '../../common/protocol/headers';
import type { MessageStore } from '../store/message-store';

/**
 * Queue positions: GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP (29)
 * and GET_EARLIEST_MSG_STORETIME (32). Every success carries its `offset`/`timestamp` field.
 */
export class QueueOffsetProcessor {
  constructor(private readonly store: MessageStore) {}

  getMaxOffset = (request: RemotingCommand): OutgoingCommand => {
    const { topic, queueId } = QueueRequestHeader.decode(request.extFields);
    return offsetResponse(request, this.store.getMaxOffsetInQueue(topic, queueId));
  };

  getMinOffset = (request: RemotingCommand): OutgoingCommand => {
    const { topic, queueId } = QueueRequestHeader.decode(request.extFields);
    return offsetResponse(request, this.store.getMinOffsetInQueue(topic, queueId));
  };

  searchOffsetByTimestamp = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const h = SearchOffsetRequestHeader.decode(request.extFields);
    return offsetResponse(
      request,
      await this.store.getOffsetInQueueByTime(h.topic, h.queueId, h.timestamp),
    );
  };

  getEarliestMsgStoretime = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const { topic, queueId } = QueueRequestHeader.decode(request.extFields);
    const timestamp = await this.store.getEarliestMessageTime(topic, queueId);
    return createResponse(request, ResponseCode.SUCCESS, {
      extFields: GetEarliestMsgStoretimeResponseHeader.encode({ timestamp }),
    });
  };
}

function offsetResponse(request: RemotingCommand, offset: number): OutgoingCommand {
  return createResponse(request, ResponseCode.SUCCESS, {
    extFields: OffsetResponseHeader.encode({ offset }),
  });
}
