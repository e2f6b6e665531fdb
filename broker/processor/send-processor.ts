import { decodeBatchBody } from '../../common/message/batch';
import { RecordError } from '../../common/message/errors';
import { normalizeIPv4 } from '../../common/message/host';
import {
  appendProperties,
  decodeProperties,
  encodeProperties,
  getProperty,
  MessageConst,
} from '../../common/message/properties';
import { MessageSysFlag, transactionType } from '../../common/message/sysflag';
import type { Connection } from '../../common/net/connection';
import { Perm, type TopicConfig } from '../../common/protocol/bodies';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import {
  createResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { RemotingError } from '../../common/protocol/errors';
import type { HeaderOf } from '../../common/protocol/header-schema';
import { SendMessageRequestHeader, SendMessageResponseHeader } from '../../common/protocol/headers';
import type { BrokerContext } from '../broker-context';
import { isWriteable } from '../metadata/topic-config-manager';
import {
  AUTO_CREATE_TOPIC_KEY,
  dlqTopicOf,
  isRetryTopic,
  RETRY_GROUP_TOPIC_PREFIX,
  topicNameProblem,
} from '../metadata/system-topics';
import type { MessageToStore, PutMessageResult } from '../store/message-types';
import { isStored, PutMessageStatus } from '../store/status';
import { putReplicated } from './replicated-put';

type SendHeader = HeaderOf<(typeof SendMessageRequestHeader)['fields']>;

/** A rewrite applied to every message before it is stored (e.g. delay scheduling). */
export type PutMessageHook = (msg: MessageToStore) => void;

/** Stores a transactional half message (the transaction service plugs in here). */
export type PreparedMessageHandler = (msg: MessageToStore) => Promise<PutMessageResult>;

/** PutMessageStatus → response code (broker-internals.md §2.3). */
const PUT_STATUS_CODE: Record<PutMessageStatus, number> = {
  PUT_OK: ResponseCode.SUCCESS,
  FLUSH_DISK_TIMEOUT: ResponseCode.FLUSH_DISK_TIMEOUT,
  FLUSH_SLAVE_TIMEOUT: ResponseCode.FLUSH_SLAVE_TIMEOUT,
  SLAVE_NOT_AVAILABLE: ResponseCode.SLAVE_NOT_AVAILABLE,
  SERVICE_NOT_AVAILABLE: ResponseCode.SERVICE_NOT_AVAILABLE,
  CREATE_MAPPED_FILE_FAILED: ResponseCode.SYSTEM_ERROR,
  MESSAGE_ILLEGAL: ResponseCode.MESSAGE_ILLEGAL,
  PROPERTIES_SIZE_EXCEEDED: ResponseCode.MESSAGE_ILLEGAL,
  OS_PAGE_CACHE_BUSY: ResponseCode.SYSTEM_BUSY,
  UNKNOWN_ERROR: ResponseCode.SYSTEM_ERROR,
};

/**
 * SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320): validate, resolve or
 * auto-create the topic, route exhausted retries to the DLQ, store, and answer with the
 * offsetMsgId, queue and queue offset (remoting.md §3.3, §6.9; broker-internals.md §2).
 */
export class SendMessageProcessor {
  /** Rewrites applied before storing; the delay service adds its own. */
  readonly putHooks: PutMessageHook[] = [];
  /** Set by the transaction service; without it half messages are refused. */
  preparedMessageHandler: PreparedMessageHandler | undefined;
  private readonly clusterProperty: string;
  constructor(private readonly ctx: BrokerContext) {
    this.clusterProperty = `${MessageConst.CLUSTER}\u0001${ctx.config.brokerClusterName}\u0002`;
  }

  handle = async (request: RemotingCommand, conn: Connection): Promise<OutgoingCommand> => {
    const header = SendMessageRequestHeader.decode(
      request.extFields,
      request.code !== RequestCode.SEND_MESSAGE,
    );
    const batch = request.code === RequestCode.SEND_BATCH_MESSAGE;
    const { config } = this.ctx;
    if (!isWriteable(config.brokerPermission)) {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `the broker[${config.brokerIP1}] sending message is forbidden`,
      );
    }
    const body = request.body ?? Buffer.alloc(0);
    if (body.length > config.maxMessageSize) {
      throw new RemotingError(
        ResponseCode.MESSAGE_ILLEGAL,
        `the message body size ${body.length} is over the limit ${config.maxMessageSize}`,
      );
    }
    const target = await this.resolveTarget(header, conn);
    const base: MessageToStore = {
      topic: target.topic,
      queueId: target.queueId,
      flag: header.flag,
      sysFlag:
        target.config.topicFilterType === 'MULTI_TAG'
          ? header.sysFlag | MessageSysFlag.MULTI_TAGS
          : header.sysFlag,
      bornTimestamp: header.bornTimestamp,
      bornHost: hostOf(conn),
      storeHost: this.ctx.storeHost,
      reconsumeTimes: header.reconsumeTimes ?? 0,
      preparedTransactionOffset: 0,
      body,
      properties: appendProperties(header.properties ?? '', this.clusterProperty),
    };
    const result = await putReplicated(
      this.ctx,
      () => (batch ? this.putBatch(base, body) : this.putOne(base)),
      base.properties,
    );
    return this.respond(request, result, base, batch);
  };

  /** Topic config, topic and queue the message goes to (auto-creation, DLQ routing). */
  private async resolveTarget(
    h: SendHeader,
    conn: Connection,
  ): Promise<{ config: TopicConfig; topic: string; queueId: number }> {
    const { topics } = this.ctx;
    const problem = topicNameProblem(h.topic);
    if (problem) throw new RemotingError(ResponseCode.MESSAGE_ILLEGAL, problem);
    if (h.topic === AUTO_CREATE_TOPIC_KEY) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `the topic[${h.topic}] is conflict with system reserved words`,
      );
    }
    let config = topics.get(h.topic);
    if (!config && isRetryTopic(h.topic)) {
      const group = this.ctx.subscriptionGroups.get(h.topic.slice(RETRY_GROUP_TOPIC_PREFIX.length));
      config = await topics.getOrCreate(
        h.topic,
        group?.retryQueueNums ?? 1,
        Perm.READ | Perm.WRITE,
      );
    }
    if (!config) {
      config = await topics.createFromTemplate(
        h.topic,
        h.defaultTopic,
        h.defaultTopicQueueNums,
        0,
        conn.remoteAddress,
      );
    }
    if (!config) {
      throw new RemotingError(
        ResponseCode.TOPIC_NOT_EXIST,
        `topic[${h.topic}] not exist, apply first please!`,
      );
    }
    if (!isWriteable(config.perm)) {
      throw new RemotingError(
        ResponseCode.NO_PERMISSION,
        `the topic[${h.topic}] sending message is forbidden`,
      );
    }
    const queueNums = Math.max(config.writeQueueNums, config.readQueueNums);
    if (h.queueId >= queueNums) {
      throw new RemotingError(
        ResponseCode.SYSTEM_ERROR,
        `request queueId[${h.queueId}] is illegal, ${h.topic} max queue ${queueNums}`,
      );
    }
    const queueId = h.queueId < 0 ? Math.floor(Math.random() * config.writeQueueNums) : h.queueId;
    if (isRetryTopic(h.topic)) return this.retryOrDeadLetter(h, config, queueId);
    return { config, topic: h.topic, queueId };
  }

  /**
   * A send to `%RETRY%<group>` whose reconsume count reached the group's limit goes to
   * `%DLQ%<group>` instead (SendMessageProcessor.handleRetryAndDLQ, broker-internals.md §11.2).
   */
  private async retryOrDeadLetter(
    h: SendHeader,
    config: TopicConfig,
    queueId: number,
  ): Promise<{ config: TopicConfig; topic: string; queueId: number }> {
    const group = h.topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
    const groupConfig = this.ctx.subscriptionGroups.findOrCreate(group);
    if (!groupConfig) {
      throw new RemotingError(
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group not exist, ${group}`,
      );
    }
    const propertyMax = Number(getProperty(h.properties ?? '', MessageConst.MAX_RECONSUME_TIMES));
    const maxReconsumeTimes =
      h.maxReconsumeTimes ??
      (Number.isInteger(propertyMax) ? propertyMax : groupConfig.retryMaxTimes);
    if ((h.reconsumeTimes ?? 0) < maxReconsumeTimes) return { config, topic: h.topic, queueId };
    const dlq = dlqTopicOf(group);
    const dlqConfig = await this.ctx.topics.getOrCreate(dlq, 1, Perm.READ | Perm.WRITE);
    this.ctx.logger.info(
      { group, reconsumeTimes: h.reconsumeTimes, maxReconsumeTimes },
      'retry message exhausted its reconsume times, stored into the DLQ',
    );
    // A dead letter is stored at once: the client's DELAY (3 + reconsumeTimes) is dropped, as
    // Java's setDelayTimeLevel(0) does.
    const props = decodeProperties(h.properties ?? '');
    props.delete(MessageConst.DELAY);
    h.properties = encodeProperties(props);
    return { config: dlqConfig, topic: dlq, queueId: 0 };
  }

  private putOne(msg: MessageToStore): Promise<PutMessageResult> {
    if (transactionType(msg.sysFlag) === MessageSysFlag.TRANSACTION_PREPARED_TYPE) {
      if (this.ctx.config.rejectTransactionMessage || !this.preparedMessageHandler) {
        throw new RemotingError(
          ResponseCode.NO_PERMISSION,
          `the broker[${this.ctx.config.brokerIP1}] sending transaction message is forbidden`,
        );
      }
      return this.preparedMessageHandler(msg);
    }
    if (this.putHooks.length === 0) return this.ctx.store.putMessage(msg);
    // Hooks may move the stored copy (e.g. into SCHEDULE_TOPIC_XXXX); the response still names
    // the queue the producer sent to, as Java's does.
    const stored = { ...msg };
    for (const hook of this.putHooks) hook(stored);
    return this.ctx.store.putMessage(stored);
  }

  /** Explodes a batch body into messages that carry the batch-level properties (§6.5). */
  private putBatch(base: MessageToStore, body: Buffer): Promise<PutMessageResult> {
    if (isRetryTopic(base.topic)) {
      throw new RemotingError(
        ResponseCode.MESSAGE_ILLEGAL,
        `batch messages cannot be sent to the retry topic ${base.topic}`,
      );
    }
    let entries;
    try {
      entries = decodeBatchBody(body);
    } catch (err) {
      if (err instanceof RecordError) {
        throw new RemotingError(ResponseCode.MESSAGE_ILLEGAL, `bad batch body: ${err.message}`);
      }
      throw err;
    }
    if (entries.length === 0) {
      throw new RemotingError(ResponseCode.MESSAGE_ILLEGAL, 'the batch body holds no message');
    }
    const messages = entries.map((entry): MessageToStore => {
      const delay = Number(getProperty(entry.properties, MessageConst.DELAY) ?? 0);
      if (delay > 0) {
        throw new RemotingError(
          ResponseCode.MESSAGE_ILLEGAL,
          'TimeDelayLevel is not supported for batched messages',
        );
      }
      // Spelled out rather than `{ ...base }`: a literal of a fixed shape is several times
      // cheaper than a spread, and this runs once per message of every batch.
      return {
        topic: base.topic,
        queueId: base.queueId,
        flag: entry.flag,
        sysFlag: base.sysFlag,
        bornTimestamp: base.bornTimestamp,
        bornHost: base.bornHost,
        storeHost: base.storeHost,
        reconsumeTimes: base.reconsumeTimes,
        preparedTransactionOffset: base.preparedTransactionOffset,
        body: entry.body,
        properties: appendProperties(entry.properties, base.properties),
      };
    });
    return this.ctx.store.putMessages(messages);
  }

  private respond(
    request: RemotingCommand,
    result: PutMessageResult,
    msg: MessageToStore,
    batch: boolean,
  ): OutgoingCommand {
    const code = PUT_STATUS_CODE[result.status];
    if (!isStored(result.status)) {
      const remark = result.remark || `store refused the message: ${result.status}`;
      this.ctx.logger.warn(
        { topic: msg.topic, status: result.status, remark, batch },
        'message not stored',
      );
      return createResponse(request, code, { remark });
    }
    this.ctx.stats.messagesPut(result.msgNum || 1);
    this.ctx.metrics.countPut(msg.topic, result.msgNum || 1, result.wroteBytes);
    return createResponse(request, code, {
      extFields: SendMessageResponseHeader.encode({
        msgId: result.msgId,
        queueId: msg.queueId,
        queueOffset: result.logicsOffset,
        MSG_REGION: this.ctx.config.regionId,
        TRACE_ON: String(this.ctx.config.traceOn),
      }),
    });
  }
}

function hostOf(conn: Connection): { ip: string; port: number } {
  return { ip: normalizeIPv4(conn.socket.remoteAddress), port: conn.socket.remotePort ?? 0 };
}
