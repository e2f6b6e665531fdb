/**
 * What the broker sees of the store (RocketMQ's `MessageStore`): the one contract between the
 * request handlers and the storage engine. The engine behind it lives in this folder; nothing
 * outside `broker/store/` reaches past this interface.
 */
import type { MessageArrivedListener, MessageToStore, PutMessageResult } from './message-types';
import type { GetMessageStatus } from './status';
import type { BrokerRole } from './store-config';

/**
 * Decides which messages a pull returns (broker-internals.md §12): first on the ConsumeQueue
 * entry's tag code, then, for filters that need it (SQL92), on the stored record.
 */
export interface MessageFilter {
  isMatchedByConsumeQueue(tagsCode: number): boolean;
  /** `record` is one stored record in the wire format; only called when the first test passed. */
  isMatchedByCommitLog(record: Buffer): boolean;
}

/** A pull's answer from the store (remoting.md §7.3 maps it to a response). */
export interface GetMessageResult {
  status: GetMessageStatus;
  /** Queue offset the consumer should pull from next. */
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** The matching stored records, each exactly as in the CommitLog (the pull wire format). */
  messages: Buffer[];
  /** Sum of `messages` lengths. */
  bufferTotalSize: number;
  /** True when the consumer lags so far behind that it should read from a slave (§5.6). */
  suggestPullingFromSlave: boolean;
}

export interface GetMessageRequest {
  topic: string;
  queueId: number;
  /** Queue offset to read from. */
  offset: number;
  maxMsgNums: number;
  /** Stop adding messages once this many bytes are collected (at least one is returned). */
  maxTotalBytes?: number;
  filter?: MessageFilter;
}

/** Result of a query by key (QUERY_MESSAGE). */
export interface QueryMessageResult {
  /** Stored records, newest index entries first, at most the requested number. */
  messages: Buffer[];
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

export interface MessageStore {
  /** Loads files, recovers (clean or after a crash) and starts the flush/dispatch/clean services. */
  start(): Promise<void>;
  /** Flushes everything, writes the checkpoint, removes the `abort` file and closes files. */
  shutdown(): Promise<void>;

  /** Appends one message; resolves per the flush/replication mode (§2.2, §2.3). */
  putMessage(msg: MessageToStore): Promise<PutMessageResult>;
  /** Appends a batch (same topic and queue) as consecutive records with consecutive queue offsets. */
  putMessages(msgs: MessageToStore[]): Promise<PutMessageResult>;
  /**
   * Makes every message appended so far durable now (an fdatasync of the CommitLog, whatever the
   * flush mode) and resolves the durable CommitLog offset (RocketMQ's `MessageStore.flush`).
   */
  flush(): Promise<number>;

  getMessage(req: GetMessageRequest): Promise<GetMessageResult>;
  /** Next queue offset to be written (0 for an unknown queue). */
  getMaxOffsetInQueue(topic: string, queueId: number): number;
  getMinOffsetInQueue(topic: string, queueId: number): number;
  /** The first queue offset whose store time is ≥ `timestamp` (SEARCH_OFFSET_BY_TIMESTAMP). */
  getOffsetInQueueByTime(topic: string, queueId: number, timestamp: number): Promise<number>;
  /** Store time of the earliest message of the queue, −1 if none. */
  getEarliestMessageTime(topic: string, queueId: number): Promise<number>;
  /** Store time of the message at queue offset `offset`, −1 if none. */
  getMessageStoreTimestamp(topic: string, queueId: number, offset: number): Promise<number>;
  /** The stored record at a CommitLog offset (VIEW_MESSAGE_BY_ID), undefined if none. */
  lookMessageByOffset(commitLogOffset: number): Promise<Buffer | undefined>;
  /** Messages whose KEYS or UNIQ_KEY equal `key`, stored between `begin` and `end` (ms). */
  queryMessage(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<QueryMessageResult>;

  getMinPhyOffset(): number;
  getMaxPhyOffset(): number;
  /** Drops the ConsumeQueues of these topics (DELETE_TOPIC_IN_BROKER). */
  deleteTopics(topics: Iterable<string>): Promise<void>;
  /** Called once per message as it becomes readable through its ConsumeQueue. */
  onMessageArrived(listener: MessageArrivedListener): void;
  /** Called after each CommitLog flush (fdatasync) with its duration in seconds. */
  onFlushed(listener: (seconds: number) => void): void;
  // Replication (broker-internals.md §5): what the HA service and failover need.

  /** The role puts are checked against; a SLAVE refuses them (SERVICE_NOT_AVAILABLE). */
  readonly brokerRole: BrokerRole;
  /**
   * Changes the role; a slave becoming master continues each queue after the last entry it
   * dispatched, so call {@link lastCompleteRecordEnd} (which dispatches everything) first.
   */
  setBrokerRole(role: BrokerRole): void;
  /** Up to `maxLength` raw readable CommitLog bytes from `offset`, never across a file end. */
  getCommitLogData(offset: number, maxLength: number): Promise<Buffer | undefined>;
  /**
   * Appends raw bytes from a master at `offset`, which must be the CommitLog's end; the
   * dispatcher builds ConsumeQueues and indexes from them. Resolves once they are in the kernel.
   */
  appendReplicated(offset: number, data: Buffer): Promise<void>;
  /** An empty CommitLog starts at `offset` (a new slave copies only the master's last file). */
  startCommitLogAt(offset: number): Promise<void>;
  /** Drops CommitLog bytes from `offset` on, with the ConsumeQueue entries pointing there. */
  truncateCommitLog(offset: number): Promise<void>;
  /** End of the last complete record (a slave's CommitLog may end mid-record). */
  lastCompleteRecordEnd(): Promise<number>;

  /** Store figures for GET_BROKER_RUNTIME_INFO and metrics (§14.1 key names). */
  runtimeInfo(): Record<string, string>;
}
