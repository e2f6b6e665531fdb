/**
 * Typed requests a producer or consumer sends to a broker (remoting.md §3.3, §3.4, §7): one
 * method per request code, each one round trip; choosing the broker is the caller's job.
 */
import type { RemotingClient } from '../common/net/client';
import { encodeJsonBody } from '../common/protocol/bodies';
import {
  type CheckClientRequestBody,
  decodeConsumerListBody,
  decodeLockBatchResponseBody,
  type HeartbeatData,
  type LockBatchRequestBody,
  type MessageQueue,
} from '../common/protocol/broker-bodies';
import { RequestCode, ResponseCode } from '../common/protocol/codes';
import { createRequest } from '../common/protocol/command';
import type { HeaderOf } from '../common/protocol/header-schema';
import {
  ConsumerSendMsgBackRequestHeader,
  GetConsumerListByGroupRequestHeader,
  OffsetResponseHeader,
  PullMessageRequestHeader,
  PullMessageResponseHeader,
  QueryConsumerOffsetRequestHeader,
  QueueRequestHeader,
  GetEarliestMsgStoretimeResponseHeader,
  SearchOffsetRequestHeader,
  SendMessageRequestHeader,
  SendMessageResponseHeader,
  UnregisterClientRequestHeader,
  UpdateConsumerOffsetRequestHeader,
} from '../common/protocol/headers';
import { decodeMessages, type MessageExt, type SendResult } from './message';
import { expectCode, responseError } from './response';

export type SendHeader = HeaderOf<(typeof SendMessageRequestHeader)['fields']>;
export type PullHeader = HeaderOf<(typeof PullMessageRequestHeader)['fields']>;
export type SendBackHeader = HeaderOf<(typeof ConsumerSendMsgBackRequestHeader)['fields']>;

/** Pull sysFlag bits (remoting.md §7.1). */
export const PullSysFlag = { COMMIT_OFFSET: 0x1, SUSPEND: 0x2, SUBSCRIPTION: 0x4 } as const;

export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'NO_MATCHED_MSG' | 'OFFSET_ILLEGAL';

export interface PullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
  /** Decoded records, before any client-side tag check. */
  messages: MessageExt[];
}

const PULL_STATUS: Record<number, PullStatus> = {
  [ResponseCode.SUCCESS]: 'FOUND',
  [ResponseCode.PULL_NOT_FOUND]: 'NO_NEW_MSG',
  [ResponseCode.PULL_RETRY_IMMEDIATELY]: 'NO_MATCHED_MSG',
  [ResponseCode.PULL_OFFSET_MOVED]: 'OFFSET_ILLEGAL',
};

const SEND_STATUS: Record<number, SendResult['sendStatus']> = {
  [ResponseCode.SUCCESS]: 'SEND_OK',
  [ResponseCode.FLUSH_DISK_TIMEOUT]: 'FLUSH_DISK_TIMEOUT',
  [ResponseCode.SLAVE_NOT_AVAILABLE]: 'SLAVE_NOT_AVAILABLE',
  [ResponseCode.FLUSH_SLAVE_TIMEOUT]: 'FLUSH_SLAVE_TIMEOUT',
};

/** A stored message's place, as the send response reports it. */
export interface StoredAt {
  sendStatus: SendResult['sendStatus'];
  offsetMsgId: string;
  queueId: number;
  queueOffset: number;
}

export class BrokerApi {
  constructor(
    readonly remoting: RemotingClient,
    private readonly timeoutMs = 3000,
  ) {}

  /** SEND_MESSAGE_V2, or SEND_BATCH_MESSAGE when `header.batch`. */
  async send(addr: string, header: SendHeader, body: Buffer, timeoutMs: number): Promise<StoredAt> {
    const code = header.batch ? RequestCode.SEND_BATCH_MESSAGE : RequestCode.SEND_MESSAGE_V2;
    const response = await this.remoting.invoke(
      addr,
      createRequest(code, SendMessageRequestHeader.encode(header, true), body),
      timeoutMs,
    );
    const sendStatus = SEND_STATUS[response.code];
    if (sendStatus === undefined) throw responseError(response);
    const h = SendMessageResponseHeader.decode(response.extFields);
    return { sendStatus, offsetMsgId: h.msgId, queueId: h.queueId, queueOffset: h.queueOffset };
  }

  async sendOneway(addr: string, header: SendHeader, body: Buffer): Promise<void> {
    const code = header.batch ? RequestCode.SEND_BATCH_MESSAGE : RequestCode.SEND_MESSAGE_V2;
    await this.remoting.invokeOneway(
      addr,
      createRequest(code, SendMessageRequestHeader.encode(header, true), body),
    );
  }

  async pull(
    addr: string,
    brokerName: string,
    header: PullHeader,
    timeoutMs: number,
  ): Promise<PullResult> {
    const response = await this.remoting.invoke(
      addr,
      createRequest(RequestCode.PULL_MESSAGE, PullMessageRequestHeader.encode(header)),
      timeoutMs,
    );
    const status = PULL_STATUS[response.code];
    if (status === undefined) throw responseError(response);
    const h = PullMessageResponseHeader.decode(response.extFields);
    return {
      status,
      nextBeginOffset: h.nextBeginOffset,
      minOffset: h.minOffset,
      maxOffset: h.maxOffset,
      suggestWhichBrokerId: h.suggestWhichBrokerId,
      messages: status === 'FOUND' ? decodeMessages(response.body, brokerName) : [],
    };
  }

  /** The committed offset, or undefined when the group has none for the queue (22). */
  async queryConsumerOffset(
    addr: string,
    consumerGroup: string,
    mq: MessageQueue,
  ): Promise<number | undefined> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.QUERY_CONSUMER_OFFSET,
        QueryConsumerOffsetRequestHeader.encode({
          consumerGroup,
          topic: mq.topic,
          queueId: mq.queueId,
        }),
      ),
      [ResponseCode.SUCCESS, ResponseCode.QUERY_NOT_FOUND],
    );
    if (response.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
    return OffsetResponseHeader.decode(response.extFields).offset;
  }

  /** UPDATE_CONSUMER_OFFSET, oneway as the Java client's periodic commit, or acknowledged. */
  async updateConsumerOffset(
    addr: string,
    consumerGroup: string,
    mq: MessageQueue,
    commitOffset: number,
    oneway: boolean,
  ): Promise<void> {
    const request = createRequest(
      RequestCode.UPDATE_CONSUMER_OFFSET,
      UpdateConsumerOffsetRequestHeader.encode({
        consumerGroup,
        topic: mq.topic,
        queueId: mq.queueId,
        commitOffset,
      }),
    );
    if (oneway) await this.remoting.invokeOneway(addr, request);
    else expectCode(await this.remoting.invoke(addr, request, this.timeoutMs));
  }

  async maxOffset(addr: string, mq: MessageQueue): Promise<number> {
    return this.queueOffset(addr, RequestCode.GET_MAX_OFFSET, mq);
  }

  async minOffset(addr: string, mq: MessageQueue): Promise<number> {
    return this.queueOffset(addr, RequestCode.GET_MIN_OFFSET, mq);
  }

  async earliestMsgStoreTime(addr: string, mq: MessageQueue): Promise<number> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.GET_EARLIEST_MSG_STORETIME,
        QueueRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId }),
      ),
    );
    return GetEarliestMsgStoretimeResponseHeader.decode(response.extFields).timestamp;
  }

  /** The offset of the message stored closest to `timestamp` (ms). */
  async searchOffset(addr: string, mq: MessageQueue, timestamp: number): Promise<number> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
        SearchOffsetRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId, timestamp }),
      ),
    );
    return OffsetResponseHeader.decode(response.extFields).offset;
  }

  async heartbeat(addr: string, data: HeartbeatData): Promise<void> {
    expectCode(await this.call(addr, RequestCode.HEART_BEAT, undefined, encodeJsonBody(data)));
  }

  /**
   * CHECK_CLIENT_CONFIG: whether the broker can filter by this subscription (a SQL92 one needs
   * `enablePropertyFilter` and a valid expression); a refusal throws its code and remark.
   */
  async checkClientConfig(addr: string, body: CheckClientRequestBody): Promise<void> {
    expectCode(
      await this.call(addr, RequestCode.CHECK_CLIENT_CONFIG, undefined, encodeJsonBody(body)),
    );
  }

  async unregisterClient(
    addr: string,
    clientID: string,
    groups: { producerGroup?: string; consumerGroup?: string },
  ): Promise<void> {
    expectCode(
      await this.call(
        addr,
        RequestCode.UNREGISTER_CLIENT,
        UnregisterClientRequestHeader.encode({ clientID, ...groups }),
      ),
    );
  }

  async consumerIds(addr: string, consumerGroup: string): Promise<string[]> {
    const response = expectCode(
      await this.call(
        addr,
        RequestCode.GET_CONSUMER_LIST_BY_GROUP,
        GetConsumerListByGroupRequestHeader.encode({ consumerGroup }),
      ),
    );
    return decodeConsumerListBody(response.body).consumerIdList;
  }

  /** LOCK_BATCH_MQ: the subset of `body.mqSet` this client now holds. */
  async lockBatch(addr: string, body: LockBatchRequestBody): Promise<MessageQueue[]> {
    const response = expectCode(
      await this.call(addr, RequestCode.LOCK_BATCH_MQ, undefined, encodeJsonBody(body)),
    );
    return decodeLockBatchResponseBody(response.body).lockOKMQSet;
  }

  async unlockBatch(addr: string, body: LockBatchRequestBody): Promise<void> {
    expectCode(await this.call(addr, RequestCode.UNLOCK_BATCH_MQ, undefined, encodeJsonBody(body)));
  }

  /** CONSUMER_SEND_MSG_BACK: the broker re-delivers the message later through %RETRY%group. */
  async sendBack(addr: string, header: SendBackHeader): Promise<void> {
    expectCode(
      await this.call(
        addr,
        RequestCode.CONSUMER_SEND_MSG_BACK,
        ConsumerSendMsgBackRequestHeader.encode(header),
      ),
    );
  }

  private async queueOffset(addr: string, code: number, mq: MessageQueue): Promise<number> {
    const response = expectCode(
      await this.call(
        addr,
        code,
        QueueRequestHeader.encode({ topic: mq.topic, queueId: mq.queueId }),
      ),
    );
    return OffsetResponseHeader.decode(response.extFields).offset;
  }

  private call(addr: string, code: number, extFields?: Record<string, string>, body?: Buffer) {
    return this.remoting.invoke(addr, createRequest(code, extFields, body), this.timeoutMs);
  }
}
