/**
 * The transactional producer (broker-internals.md §10): sends a half message (TRAN_MSG, PGROUP),
 * runs the local transaction, and ends it with END_TRANSACTION; answers the broker's
 * CHECK_TRANSACTION_STATE for transactions whose outcome the broker never learnt.
 */
import { formatHostAddress } from '../common/message/host';
import { decodeOffsetMsgId } from '../common/message/message-id';
import { MessageConst } from '../common/message/properties';
import { MessageSysFlag } from '../common/message/sysflag';
import type { Connection } from '../common/net/connection';
import { RequestCode } from '../common/protocol/codes';
import { createRequest, type RemotingCommand } from '../common/protocol/command';
import {
  CheckTransactionStateRequestHeader,
  EndTransactionRequestHeader,
} from '../common/protocol/headers';
import type { ClientInstance } from './client-instance';
import {
  decodeMessages,
  keysString,
  type Message,
  type MessageExt,
  type SendResult,
} from './message';
import { Producer, type ProducerOptions } from './producer';
import { traceEndTransaction } from './trace/trace-hooks';

export const LocalTransactionState = {
  COMMIT: 'COMMIT',
  ROLLBACK: 'ROLLBACK',
  UNKNOWN: 'UNKNOWN',
} as const;
export type LocalTransactionState =
  (typeof LocalTransactionState)[keyof typeof LocalTransactionState];

/** The END_TRANSACTION `commitOrRollback` value of each state. */
const STATE_CODE: Record<LocalTransactionState, number> = {
  COMMIT: MessageSysFlag.TRANSACTION_COMMIT_TYPE,
  ROLLBACK: MessageSysFlag.TRANSACTION_ROLLBACK_TYPE,
  UNKNOWN: MessageSysFlag.TRANSACTION_NOT_TYPE,
};

type MaybePromise<T> = T | Promise<T>;

export interface TransactionListener<A = unknown> {
  /** Runs the local transaction after the half message is stored. */
  executeLocalTransaction(
    msg: Message,
    arg: A,
    transactionId: string,
  ): MaybePromise<LocalTransactionState>;
  /** The broker asks about a transaction still UNKNOWN after `transactionTimeOut`. */
  checkLocalTransaction(msg: MessageExt): MaybePromise<LocalTransactionState>;
}

export interface TransactionProducerOptions<A = unknown> extends ProducerOptions {
  transactionListener: TransactionListener<A>;
}

export interface TransactionSendResult extends SendResult {
  /** The UNIQ_KEY the broker files the transaction under. */
  transactionId: string;
  localTransactionState: LocalTransactionState;
}

export class TransactionProducer<A = unknown> {
  readonly producer: Producer;
  private readonly listener: TransactionListener<A>;

  constructor(options: TransactionProducerOptions<A>, client?: ClientInstance) {
    this.producer = new Producer(options, client);
    this.listener = options.transactionListener;
  }

  get client(): ClientInstance {
    return this.producer.client;
  }

  async start(): Promise<void> {
    this.client.onRequest(RequestCode.CHECK_TRANSACTION_STATE, (request, connection) =>
      this.onCheck(request, connection),
    );
    await this.producer.start();
  }

  shutdown(): Promise<void> {
    return this.producer.shutdown();
  }

  /**
   * Sends the half message, runs `executeLocalTransaction` and sends its outcome. A failing
   * local transaction counts as UNKNOWN (the broker checks back); a half message stored with a
   * degraded status (flush or slave timeout) is rolled back, as the Java producer does.
   */
  async sendMessageInTransaction(msg: Message, arg: A): Promise<TransactionSendResult> {
    if (msg.delayTimeLevel) throw new Error('a transactional message cannot be delayed');
    const group = this.producer.producerGroup;
    const half: Message = {
      ...msg,
      properties: {
        ...msg.properties,
        [MessageConst.TRAN_MSG]: 'true',
        [MessageConst.PGROUP]: group,
      },
    };
    const sent = await this.producer.send(half);
    let state: LocalTransactionState = LocalTransactionState.ROLLBACK;
    if (sent.sendStatus === 'SEND_OK') {
      try {
        state = await this.listener.executeLocalTransaction(msg, arg, sent.msgId);
      } catch (err) {
        this.client.logger.warn(
          { transactionId: sent.msgId, err: String(err) },
          'executeLocalTransaction failed; the broker will check the transaction back',
        );
        state = LocalTransactionState.UNKNOWN;
      }
    }
    if (this.producer.trace) {
      traceEndTransaction(this.producer.trace, this.producer.producerGroup, {
        topic: msg.topic,
        msgId: sent.msgId,
        tags: msg.tags,
        keys: keysString(msg.keys),
        storeHost: formatHostAddress(decodeOffsetMsgId(sent.offsetMsgId).host),
        transactionId: sent.msgId,
        state,
        fromTransactionCheck: false,
      });
    }
    await this.endTransaction(sent, state).catch((err: unknown) =>
      this.client.logger.warn(
        { transactionId: sent.msgId, state, err: String(err) },
        'END_TRANSACTION not sent; the broker will check the transaction back',
      ),
    );
    return { ...sent, transactionId: sent.msgId, localTransactionState: state };
  }

  private async endTransaction(sent: SendResult, state: LocalTransactionState): Promise<void> {
    const addr = await this.client.routes.findMasterAddr(
      sent.messageQueue.brokerName,
      sent.messageQueue.topic,
    );
    const request = createRequest(
      RequestCode.END_TRANSACTION,
      EndTransactionRequestHeader.encode({
        producerGroup: this.producer.producerGroup,
        tranStateTableOffset: sent.queueOffset,
        commitLogOffset: decodeOffsetMsgId(sent.offsetMsgId).physicalOffset,
        commitOrRollback: STATE_CODE[state],
        fromTransactionCheck: false,
        msgId: sent.msgId,
        transactionId: sent.msgId,
      }),
    );
    await this.client.remoting.invokeOneway(addr, request);
  }

  /** CHECK_TRANSACTION_STATE: asks the listener, answers on the same connection. */
  private async onCheck(request: RemotingCommand, connection: Connection): Promise<undefined> {
    const h = CheckTransactionStateRequestHeader.decode(request.extFields);
    const [msg] = decodeMessages(request.body, '');
    if (!msg) {
      this.client.logger.warn({ msgId: h.msgId }, 'CHECK_TRANSACTION_STATE without a message');
      return undefined;
    }
    let state: LocalTransactionState;
    try {
      state = await this.listener.checkLocalTransaction(msg);
    } catch (err) {
      this.client.logger.warn(
        { transactionId: h.transactionId, err: String(err) },
        'checkLocalTransaction failed; answered UNKNOWN',
      );
      state = LocalTransactionState.UNKNOWN;
    }
    const answer = createRequest(
      RequestCode.END_TRANSACTION,
      EndTransactionRequestHeader.encode({
        producerGroup: this.producer.producerGroup,
        tranStateTableOffset: h.tranStateTableOffset,
        commitLogOffset: h.commitLogOffset,
        commitOrRollback: STATE_CODE[state],
        fromTransactionCheck: true,
        msgId: h.msgId ?? msg.msgId,
        transactionId: h.transactionId,
      }),
    );
    connection.invokeOneway(answer);
    if (this.producer.trace) {
      traceEndTransaction(this.producer.trace, this.producer.producerGroup, {
        topic: msg.topic,
        msgId: msg.msgId,
        tags: msg.tags,
        keys: msg.keys,
        storeHost: formatHostAddress(msg.storeHost),
        transactionId: h.transactionId ?? msg.msgId,
        state,
        fromTransactionCheck: true,
      });
    }
    return undefined;
  }
}
