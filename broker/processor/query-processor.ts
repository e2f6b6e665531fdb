import { ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import {
  QueryMessageRequestHeader,
  QueryMessageResponseHeader,
  ViewMessageRequestHeader,
} from '../../common/protocol/headers';
import type { MessageStore } from '../store/message-store';

/** Java forces this many results for a unique-key query (remoting.md §3.5). */
const UNIQUE_KEY_QUERY_MAX = 32;

/** QUERY_MESSAGE (12) by key and VIEW_MESSAGE_BY_ID (33) by CommitLog offset. */
export class QueryMessageProcessor {
  constructor(private readonly store: MessageStore) {}

  queryMessage = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const h = QueryMessageRequestHeader.decode(request.extFields);
    const maxNum =
      request.extFields?._UNIQUE_KEY_QUERY === 'true' ? UNIQUE_KEY_QUERY_MAX : h.maxNum;
    const result = await this.store.queryMessage(
      h.topic,
      h.key,
      maxNum,
      h.beginTimestamp,
      h.endTimestamp,
    );
    const extFields = QueryMessageResponseHeader.encode({
      indexLastUpdateTimestamp: result.indexLastUpdateTimestamp,
      indexLastUpdatePhyoffset: result.indexLastUpdatePhyoffset,
    });
    if (result.messages.length === 0) {
      return createResponse(request, ResponseCode.QUERY_NOT_FOUND, {
        remark: 'can not find message, maybe time range not correct',
        extFields,
      });
    }
    return createResponse(request, ResponseCode.SUCCESS, { extFields, body: result.messages });
  };

  viewMessageById = async (request: RemotingCommand): Promise<OutgoingCommand> => {
    const { offset } = ViewMessageRequestHeader.decode(request.extFields);
    const record = await this.store.lookMessageByOffset(offset);
    if (!record) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `can not find message by the offset, ${offset}`,
      );
    }
    return createResponse(request, ResponseCode.SUCCESS, { body: record });
  };
}
