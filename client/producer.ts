/**
 * The producer (remoting.md §3.3, §8.3): sends to the master of a chosen queue with
 * SEND_MESSAGE_V2 or SEND_BATCH_MESSAGE, retrying a failed send on another broker, optionally
 * avoiding slow or failed brokers for a while (latency fault tolerance).
 */
import { type BatchEntry, encodeBatchBody } from '../common/message/batch';
import { createUniqKey } from '../common/message/message-id';
import { encodeProperties, MessageConst } from '../common/message/properties';
import { MAX_TOPIC_LENGTH } from '../common/message/record';
import { MessageSysFlag } from '../common/message/sysflag';
import type { TopicRouteData } from '../common/protocol/bodies';
import { ResponseCode } from '../common/protocol/codes';
import { RemotingError } from '../common/protocol/errors';
import type { SendHeader } from './broker-api';
import { ClientInstance, type ClientMember, type ClientOptions } from './client-instance';
import { SendQueuePicker } from './latency-fault';
import {
  bodyBuffer,
  compressIfLarge,
  COMPRESS_OVER_BYTES,
  encodeMessageProperties,
  type Message,
  messageProperties,
  type SendResult,
} from './message';
import type { MessageQueue } from './message-queue';
import type { MessageQueueSelector } from './queue-selector';
import { capQueueNums, publishQueues } from './route';
import type { TraceDispatcher, TraceOptions } from './trace/trace-dispatcher';
import { createTraceDispatcher, traceSend } from './trace/trace-hooks';

export interface ProducerOptions extends ClientOptions, TraceOptions {
  producerGroup: string;
  /** Timeout of one send including its retries; default 3000 ms. */
  sendMsgTimeoutMs?: number;
  /** Further attempts, on another broker, after a failed send; default 2. */
  retryTimesWhenSendFailed?: number;
  /** Avoid brokers that were slow or failed recently; default false. */
  sendLatencyFaultEnable?: boolean;
  /** Bodies of at least this many bytes are zlib-compressed; default 4096. */
  compressMsgBodyOverHowmuch?: number;
  /** Largest body accepted; default 4 MiB, the broker's default. */
  maxMessageSize?: number;
  /** Queues a topic the broker auto-creates gets; default 4. */
  defaultTopicQueueNums?: number;
  /** The template topic for auto-creation; default TBW102. */
  createTopicKey?: string;
}

/** How to choose the queue; default: round robin over the writable queues. */
export interface SendOptions<A = unknown> {
  /** This exact queue (no retry elsewhere). */
  queue?: MessageQueue;
  /** A selector and its argument, e.g. `selectByHash` with a sharding key (no retry elsewhere). */
  selector?: MessageQueueSelector<A>;
  arg?: A;
  timeoutMs?: number;
}

/** Responses after which the Java producer retries on another broker. */
const RETRY_CODES = new Set<number>([
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.NO_PERMISSION,
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SYSTEM_BUSY,
  204,
  205,
]);

const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;
/** The batch-level properties of every SEND_BATCH_MESSAGE. */
const BATCH_PROPERTIES = encodeProperties({ [MessageConst.WAIT]: 'true' });
const RETRY_PREFIX = '%RETRY%';

/** Broker error codes in RETRY_CODES, and every transport failure (timeout, closed, refused). */
function isRetryable(err: unknown): boolean {
  return err instanceof RemotingError ? RETRY_CODES.has(err.code) : true;
}

interface Prepared {
  /** queueId and bname are placeholders, overwritten per send by the queue chosen. */
  header: SendHeader;
  body: Buffer;
  msgId: string;
}

export class Producer implements ClientMember {
  readonly isConsumer = false;
  readonly producerGroup: string;
  readonly client: ClientInstance;
  private readonly picker: SendQueuePicker;
  private readonly sentTopics = new Set<string>();
  /** First route lookups in flight, shared by every send to the topic that starts meanwhile. */
  private readonly routeLookups = new Map<string, Promise<TopicRouteData | undefined>>();
  private readonly queueCache = new WeakMap<TopicRouteData, MessageQueue[]>();

  private readonly createTopicKey: string;
  private readonly ownsClient: boolean;
  /** Writes trace records when `enableMsgTrace` is set (Pub here, EndTransaction by transactions). */
  readonly trace: TraceDispatcher | undefined;

  constructor(
    private readonly options: ProducerOptions,
    client?: ClientInstance,
  ) {
    this.producerGroup = options.producerGroup;
    this.createTopicKey = options.createTopicKey ?? 'TBW102';
    this.client = client ?? new ClientInstance(options);
    this.ownsClient = client === undefined;
    this.picker = new SendQueuePicker(options.sendLatencyFaultEnable ?? false);
    this.trace = createTraceDispatcher(
      options,
      this.producerGroup,
      this.client.logger,
      (producerGroup) => new Producer({ ...options, producerGroup, enableMsgTrace: false }),
    );
  }

  *topics(): Iterable<string> {
    yield this.createTopicKey;
    yield* this.sentTopics;
  }

  async start(): Promise<void> {
    this.client.register(this);
    await this.client.start();
    await this.trace?.start();
  }

  /** Unregisters the producer group from the brokers and closes connections. */
  async shutdown(): Promise<void> {
    await this.trace?.shutdown();
    this.client.unregister(this);
    await this.client.unregisterGroup({ producerGroup: this.producerGroup });
    if (this.ownsClient) this.client.shutdown();
  }

  /** Sends and waits for the broker's answer (Java's sync send; don't await for async). */
  async send<A>(msg: Message, options: SendOptions<A> = {}): Promise<SendResult> {
    const prepared = this.prepare(msg);
    return this.sendPrepared(msg.topic, prepared, options);
  }

  /** Sends without waiting for (or getting) an answer. */
  async sendOneway<A>(msg: Message, options: SendOptions<A> = {}): Promise<void> {
    const prepared = this.prepare(msg);
    const queues = await this.publishQueues(msg.topic);
    const mq = this.chooseQueue(queues, options);
    const addr = await this.masterAddr(mq);
    await this.client.broker.sendOneway(
      addr,
      { ...prepared.header, queueId: mq.queueId, bname: mq.brokerName },
      prepared.body,
    );
  }

  /** Sends messages of one topic as one SEND_BATCH_MESSAGE; they land in one queue in order. */
  async sendBatch<A>(msgs: readonly Message[], options: SendOptions<A> = {}): Promise<SendResult> {
    if (msgs.length === 0) throw new Error('empty batch');
    const topic = msgs[0].topic;
    this.checkTopic(topic);
    if (topic.startsWith(RETRY_PREFIX)) throw new Error('a batch cannot go to a retry topic');
    const ids = new Array<string>(msgs.length);
    const entries = new Array<BatchEntry>(msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i];
      if (msg.topic !== topic) throw new Error('every message of a batch must have the same topic');
      if (msg.delayTimeLevel) throw new Error('a batch cannot hold delayed messages');
      const msgId = createUniqKey();
      ids[i] = msgId;
      entries[i] = {
        flag: msg.flag ?? 0,
        body: this.checkedBody(msg),
        properties: encodeMessageProperties(msg, msgId, false),
      };
    }
    const body = encodeBatchBody(entries);
    const prepared: Prepared = {
      header: this.baseHeader(topic, 0, 0, BATCH_PROPERTIES),
      body,
      msgId: ids.join(','),
    };
    prepared.header.batch = true;
    return this.sendPrepared(topic, prepared, options);
  }

  private checkTopic(topic: string): void {
    if (!TOPIC_PATTERN.test(topic) || Buffer.byteLength(topic) > MAX_TOPIC_LENGTH) {
      throw new Error(`invalid topic "${topic}": use [%|a-zA-Z0-9_-], at most 127 bytes`);
    }
  }

  /** The body of a message whose topic was checked. */
  private checkedBody(msg: Message): Buffer {
    const body = bodyBuffer(msg.body);
    if (body.length === 0) throw new Error('message body is empty');
    const max = this.options.maxMessageSize ?? 4 * 1024 * 1024;
    if (body.length > max) throw new Error(`message body is ${body.length} bytes, over ${max}`);
    return body;
  }

  private prepare(msg: Message): Prepared {
    this.checkTopic(msg.topic);
    const raw = this.checkedBody(msg);
    // A message re-sent to the retry topic keeps its id, as Java's `setUniqID` does.
    const msgId = msg.properties?.[MessageConst.UNIQ_KEY] ?? createUniqKey();
    const props = messageProperties(msg, msgId);
    let reconsumeTimes: number | undefined;
    let maxReconsumeTimes: number | undefined;
    if (msg.topic.startsWith(RETRY_PREFIX)) {
      // A consumer's own retry send: these travel in the header, not as properties.
      reconsumeTimes = Number(props.get(MessageConst.RECONSUME_TIME) ?? 0);
      maxReconsumeTimes = Number(props.get(MessageConst.MAX_RECONSUME_TIMES) ?? 16);
      props.delete(MessageConst.RECONSUME_TIME);
      props.delete(MessageConst.MAX_RECONSUME_TIMES);
    }
    const compressed = compressIfLarge(
      raw,
      this.options.compressMsgBodyOverHowmuch ?? COMPRESS_OVER_BYTES,
    );
    const { body } = compressed;
    // A transaction's half message is marked in the sysFlag too, as Java's sendKernelImpl does.
    const sysFlag =
      props.get(MessageConst.TRAN_MSG) === 'true'
        ? compressed.sysFlag | MessageSysFlag.TRANSACTION_PREPARED_TYPE
        : compressed.sysFlag;
    const header = this.baseHeader(msg.topic, sysFlag, msg.flag ?? 0, encodeProperties(props));
    if (reconsumeTimes !== undefined) {
      header.reconsumeTimes = reconsumeTimes;
      header.maxReconsumeTimes = maxReconsumeTimes;
    }
    return { header, body, msgId };
  }

  private baseHeader(
    topic: string,
    sysFlag: number,
    flag: number,
    properties: string,
  ): Prepared['header'] {
    return {
      producerGroup: this.producerGroup,
      topic,
      defaultTopic: this.createTopicKey,
      defaultTopicQueueNums: this.options.defaultTopicQueueNums ?? 4,
      sysFlag,
      bornTimestamp: Date.now(),
      flag,
      properties,
      reconsumeTimes: 0,
      unitMode: false,
      batch: false,
      // Present so that `{ ...header, queueId, bname }` only overwrites keys: adding new keys
      // to a spread takes V8's slow path, about 2 µs a send.
      queueId: 0,
      bname: undefined,
    };
  }

  private async sendPrepared<A>(
    topic: string,
    prepared: Prepared,
    options: SendOptions<A>,
  ): Promise<SendResult> {
    const timeoutMs = options.timeoutMs ?? this.options.sendMsgTimeoutMs ?? 3000;
    const deadline = Date.now() + timeoutMs;
    const queues = this.knownQueues(topic) ?? (await this.publishQueues(topic));
    const chosenByCaller = options.queue !== undefined || options.selector !== undefined;
    const attempts = chosenByCaller ? 1 : 1 + (this.options.retryTimesWhenSendFailed ?? 2);
    let lastBroker: string | undefined;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const mq = chosenByCaller
        ? this.chooseQueue(queues, options)
        : this.picker.pick(queues, lastBroker);
      lastBroker = mq.brokerName;
      const started = Date.now();
      try {
        const addr = this.client.routes.masterAddr(mq.brokerName) ?? (await this.masterAddr(mq));
        const stored = await this.client.broker.send(
          addr,
          { ...prepared.header, queueId: mq.queueId, bname: mq.brokerName },
          prepared.body,
          remaining,
        );
        this.picker.record(mq.brokerName, Date.now() - started, false);
        const result: SendResult = {
          sendStatus: stored.sendStatus,
          msgId: prepared.msgId,
          offsetMsgId: stored.offsetMsgId,
          messageQueue: { topic, brokerName: mq.brokerName, queueId: stored.queueId },
          queueOffset: stored.queueOffset,
        };
        if (this.trace && !prepared.header.batch) {
          traceSend(this.trace, this.producerGroup, {
            topic,
            properties: prepared.header.properties ?? '',
            bodyLength: prepared.body.length,
            result,
            costMs: Date.now() - started,
          });
        }
        return result;
      } catch (err) {
        this.picker.record(mq.brokerName, Date.now() - started, true);
        lastError = err;
        this.client.logger.warn(
          { topic, broker: mq.brokerName, attempt, err: String(err) },
          'send failed',
        );
        if (!isRetryable(err)) break;
      }
    }
    throw lastError ?? new Error(`send to ${topic} timed out after ${timeoutMs} ms`);
  }

  private chooseQueue<A>(queues: readonly MessageQueue[], options: SendOptions<A>): MessageQueue {
    if (options.queue) return options.queue;
    if (options.selector) return options.selector(queues, options.arg as A);
    return this.picker.pick(queues);
  }

  /**
   * The writable queues of a topic already sent to and routed, without an await: the
   * per-message path (publishQueues handles the rest).
   */
  private knownQueues(topic: string): MessageQueue[] | undefined {
    if (!this.sentTopics.has(topic)) return undefined;
    const route = this.client.routes.cached(topic);
    const queues = route && this.queueCache.get(route);
    return queues && queues.length > 0 ? queues : undefined;
  }

  /** The topic's writable queues; a topic unknown to the name server uses TBW102's brokers. */
  async publishQueues(topic: string): Promise<MessageQueue[]> {
    const route = this.sentTopics.has(topic)
      ? this.client.routes.cached(topic)
      : await this.firstRouteLookup(topic);
    let queues: MessageQueue[] | undefined;
    if (route) {
      queues = this.queueCache.get(route);
      if (!queues) {
        queues = publishQueues(topic, route);
        this.queueCache.set(route, queues);
      }
    } else {
      // Until the broker has auto-created the topic and the next route poll has seen it.
      const template = await this.client.routes.route(this.createTopicKey);
      if (!template) throw new Error(`No route info of this topic: ${topic}`);
      queues = publishQueues(
        topic,
        capQueueNums(template, this.options.defaultTopicQueueNums ?? 4),
      );
    }
    if (queues.length === 0) throw new Error(`No writable queue of this topic: ${topic}`);
    return queues;
  }

  /**
   * Asks the name server for a topic's route once, however many sends start before it answers:
   * a send that saw no route yet would otherwise fall back to TBW102 and auto-create the topic
   * on brokers that should not have it.
   */
  private firstRouteLookup(topic: string): Promise<TopicRouteData | undefined> {
    let lookup = this.routeLookups.get(topic);
    if (!lookup) {
      lookup = this.client.routes.fetch(topic).finally(() => {
        this.routeLookups.delete(topic);
        this.sentTopics.add(topic);
      });
      this.routeLookups.set(topic, lookup);
    }
    return lookup;
  }

  private masterAddr(mq: MessageQueue): Promise<string> {
    return this.client.routes.findMasterAddr(mq.brokerName, mq.topic);
  }
}
