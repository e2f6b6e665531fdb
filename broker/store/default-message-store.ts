/**
 * The storage engine behind `MessageStore` (RocketMQ's DefaultMessageStore): the CommitLog, the
 * ConsumeQueues and indexes the dispatcher derives from it, recovery at start (§3), the flush
 * services (§2.2, §2.5) and retention (§4).
 */
import { existsSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import type { Logger } from 'pino';
import { hostIPv4 } from '../../common/message/host';
import { readInt64BE } from '../../common/message/int64';
import { appendProperties, MessageConst } from '../../common/message/properties';
import {
  MAX_PROPERTIES_LENGTH,
  MAX_TOPIC_LENGTH,
  encodeRecordInto,
  readPropertiesString,
  readQueueId,
  readQueueOffset,
  readStoreTimestamp,
  readTopic,
  recordSize,
  type RecordToEncode,
} from '../../common/message/record';
import { MessageSysFlag, transactionType } from '../../common/message/sysflag';
import { StoreCheckpoint } from './checkpoint';
import { CleanService } from './clean-service';
import { CommitLog } from './commit-log';
import { CQ_FILLER_SIZE, CQ_UNIT_SIZE, type ConsumeQueue } from './consume-queue';
import { ConsumeQueueTable } from './consume-queue-table';
import { IndexService } from './index-service';
import { SCHEDULE_TOPIC, type StoreProps, scanStoreProps, tagsCodeOf } from './message-props';
import type {
  GetMessageRequest,
  GetMessageResult,
  MessageStore,
  QueryMessageResult,
} from './message-store';
import {
  type MessageArrivedListener,
  type MessageToStore,
  PutMessageResult,
} from './message-types';
import { ReputService } from './reput-service';
import { QueueOffsetTable } from './queue-offset-table';
import { GetMessageStatus, PutMessageStatus } from './status';
import {
  type BrokerRole,
  type StoreConfig,
  type StorePaths,
  StoreError,
  parseDelayLevels,
  storePaths,
  validateStoreConfig,
} from './store-config';
import { type StoreIO, isNoSpaceError } from './store-io';

type State = 'new' | 'running' | 'stopping' | 'stopped';

/** A pull reads close-together records with one read if the bytes between them are at most this… */
const READ_SPAN_GAP = 64 * 1024;
/** … and the read stays within this many bytes. */
const READ_SPAN_MAX = 2 * 1024 * 1024;

/** One record of an append, sized and ready to encode. */
interface PreparedRecord {
  msg: MessageToStore;
  topic: string;
  queueId: number;
  properties: string;
  topicLength: number;
  propertiesLength: number;
  size: number;
  /** WAIT was not "false": under SYNC_FLUSH the put waits for the sync. */
  wait: boolean;
  /** The store-interpreted properties of the record as stored (after the delay rewrite). */
  props: StoreProps;
}

export class DefaultMessageStore implements MessageStore {
  private readonly paths: StorePaths;
  private readonly syncFlush: boolean;
  private readonly delayLevels: number[];
  private readonly listeners: MessageArrivedListener[] = [];
  private readonly flushListeners: ((seconds: number) => void)[] = [];
  /** Filled in by `append` for each record it encodes. */
  private readonly recordScratch: RecordToEncode = {
    topic: '',
    queueId: 0,
    flag: 0,
    queueOffset: 0,
    physicalOffset: 0,
    sysFlag: 0,
    bornTimestamp: 0,
    bornHost: { ip: '0.0.0.0', port: 0 },
    storeTimestamp: 0,
    storeHost: { ip: '0.0.0.0', port: 0 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: Buffer.alloc(0),
    properties: '',
    topicByteLength: 0,
    propertiesByteLength: 0,
  };
  private state: State = 'new';
  /** Starts as configured; failover changes it (§5.1, DESIGN "Failover keeps one writer"). */
  private role: BrokerRole;
  private checkpoint!: StoreCheckpoint;
  private commitLog!: CommitLog;
  private queues!: ConsumeQueueTable;
  private index: IndexService | undefined;
  private reput!: ReputService;
  private clean!: CleanService;
  /** Next queue offset per `topic-queueId` (RocketMQ's topicQueueTable). */
  private readonly queueOffsets = new QueueOffsetTable();
  private timers: NodeJS.Timeout[] = [];
  private lastCqThoroughFlush = 0;
  private lastClThoroughFlush = 0;
  private readonly memoryForHotData: number;
  private readonly stats = {
    bootTimestamp: Date.now(),
    putTimes: 0,
    putFailed: 0,
    putBytes: 0,
    putMaxMillis: 0,
  };

  constructor(
    private readonly config: StoreConfig,
    private readonly io: StoreIO,
    private readonly logger: Logger,
  ) {
    validateStoreConfig(config);
    this.paths = storePaths(config);
    this.syncFlush = config.flushDiskType === 'SYNC_FLUSH';
    this.role = config.brokerRole;
    this.delayLevels = parseDelayLevels(config.messageDelayLevel);
    this.memoryForHotData = os.totalmem() * (config.accessMessageInMemoryMaxRatio / 100);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.state !== 'new') throw new StoreError('the message store can be started only once');
    const { config, io, logger, paths } = this;
    await fsp.mkdir(paths.root, { recursive: true });
    await this.takeLock();
    const lastExitOK = !existsSync(paths.abort);
    this.checkpoint = await StoreCheckpoint.open(io, paths.checkpoint);
    this.commitLog = new CommitLog({
      io,
      dir: paths.commitLog,
      fileSize: config.mappedFileSizeCommitLog,
      syncFlush: this.syncFlush,
      syncFlushTimeout: config.syncFlushTimeout,
      checkpoint: this.checkpoint,
      logger,
      onReadable: () => this.reput.wake(),
      dispatchedOffset: () => this.reput.reputFromOffset,
      onFlushed: (seconds) => {
        for (const listener of this.flushListeners) listener(seconds);
      },
    });
    this.queues = new ConsumeQueueTable(
      io,
      paths.consumeQueue,
      config.mappedFileSizeConsumeQueue,
      logger,
    );
    if (config.messageIndexEnable) {
      this.index = new IndexService(
        io,
        paths.index,
        config.maxHashSlotNum,
        config.maxIndexNum,
        this.checkpoint,
        logger,
      );
    }
    this.reput = new ReputService({
      commitLog: this.commitLog,
      queues: this.queues,
      index: this.index,
      checkpoint: this.checkpoint,
      delayLevels: this.delayLevels,
      syncFlush: this.syncFlush,
      logger,
      listeners: this.listeners,
    });
    this.clean = new CleanService({
      config,
      io,
      commitLog: this.commitLog,
      commitLogDir: paths.commitLog,
      queues: this.queues,
      index: this.index,
      logger,
    });

    await this.commitLog.files.load();
    await this.queues.load();
    if (this.index !== undefined) await this.index.load(lastExitOK);
    await this.recover(lastExitOK);

    // §3.1 step 7: dispatch everything recovered before accepting puts.
    await this.reput.catchUp();
    this.rebuildQueueOffsets();
    await this.clean.checkDisk();
    this.startServices();
    await fsp.writeFile(paths.abort, String(process.pid));
    this.state = 'running';
    logger.info(
      {
        root: paths.root,
        lastExitOK,
        minOffset: this.commitLog.minOffset(),
        maxOffset: this.commitLog.maxOffset(),
        flushDiskType: config.flushDiskType,
      },
      'message store started',
    );
  }

  /**
   * The `lock` file holds the pid of the process using the store; a live other pid means the
   * store is in use (RocketMQ: "Lock failed,MQ already started").
   */
  private async takeLock(): Promise<void> {
    const text = await fsp.readFile(this.paths.lock, 'utf8').catch(() => '');
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new StoreError(
        `Lock failed, MQ already started: ${this.paths.lock} is held by process ${pid}`,
      );
    }
    await fsp.writeFile(this.paths.lock, String(process.pid));
  }

  /** §3.2–§3.4: ConsumeQueues were recovered on load; now the CommitLog, then truncation. */
  private async recover(lastExitOK: boolean): Promise<void> {
    const { commitLog, queues, config, logger } = this;
    const files = commitLog.files.files;
    let scanFrom = commitLog.files.minOffset();
    if (lastExitOK) {
      if (files.length > 3) scanFrom = files[files.length - 3].fileFromOffset;
    } else {
      const minTs =
        this.index !== undefined && config.messageIndexSafe
          ? this.checkpoint.minTimestampIndex()
          : this.checkpoint.minTimestamp();
      scanFrom = await commitLog.crashRecoveryStart(minTs);
    }
    const validEnd =
      files.length === 0 ? 0 : await commitLog.findValidEnd(scanFrom, config.checkCRCOnRecover);
    const maxOffsetBefore = commitLog.files.maxOffset();
    await commitLog.truncateTo(validEnd);
    if (validEnd < maxOffsetBefore) {
      logger.warn(
        { validEnd, lastExitOK },
        'CommitLog recovered: dropped bytes past the last valid record',
      );
    }
    let redispatchFrom = validEnd;
    for (const cq of queues.all()) {
      if (cq.lastPhysicalEnd() > validEnd) await cq.truncateDirty(validEnd);
      if (!lastExitOK) {
        // A write cut by the crash can leave the last entry half written: drop it if it does
        // not match its record, and dispatch again from there.
        const torn = await this.tornLastEntry(cq);
        if (torn !== undefined) {
          logger.warn(
            { topic: cq.topic, queueId: cq.queueId },
            'dropping a torn consume queue entry',
          );
          await cq.truncateDirty(torn);
          redispatchFrom = Math.min(redispatchFrom, torn);
        }
      }
      await cq.correctMinOffset(commitLog.minOffset());
    }
    const cqEnd = queues.maxPhysicalEnd();
    let reputFrom = Math.max(cqEnd, commitLog.minOffset());
    if (!lastExitOK) reputFrom = Math.min(reputFrom, scanFrom, redispatchFrom);
    this.reput.reputFromOffset = Math.min(Math.max(reputFrom, commitLog.minOffset()), validEnd);
    logger.info(
      { lastExitOK, scanFrom, validEnd, reputFrom: this.reput.reputFromOffset },
      'store recovery done',
    );
  }

  /**
   * The CommitLog offset of the queue's last entry if that entry does not describe the record it
   * points to (size, topic, queue id, queue offset, tag code), else undefined.
   */
  private async tornLastEntry(cq: ConsumeQueue): Promise<number | undefined> {
    const index = cq.maxOffset() - 1;
    if (index < cq.minOffset()) return undefined;
    const e = await cq.getEntry(index);
    if (e === undefined || e[1] === CQ_FILLER_SIZE) return undefined;
    const [offset, size, tagsCode] = e;
    const rec = await this.commitLog.readRecord(offset);
    const sound =
      rec !== undefined &&
      rec.length === size &&
      readQueueOffset(rec, 0) === index &&
      readQueueId(rec, 0) === cq.queueId &&
      readTopic(rec, 0) === cq.topic &&
      tagsCodeOf(
        cq.topic,
        scanStoreProps(readPropertiesString(rec, 0)),
        readStoreTimestamp(rec, 0),
        this.delayLevels,
      ) === tagsCode;
    return sound ? undefined : offset;
  }

  private rebuildQueueOffsets(): void {
    this.queueOffsets.clear();
    for (const cq of this.queues.all()) {
      if (cq.maxOffset() > 0) this.queueOffsets.set(cq.topic, cq.queueId, cq.maxOffset());
    }
  }

  private startServices(): void {
    const { config } = this;
    const now = Date.now();
    this.lastCqThoroughFlush = now;
    this.lastClThoroughFlush = now;
    if (!this.syncFlush) {
      this.every(config.flushIntervalCommitLog, async () => {
        const thorough =
          Date.now() - this.lastClThoroughFlush >= config.flushCommitLogThoroughInterval;
        if (thorough) this.lastClThoroughFlush = Date.now();
        await this.commitLog.flushIfDirty(thorough ? 0 : config.flushCommitLogLeastPages);
      });
    }
    this.every(config.flushIntervalConsumeQueue, () => this.flushConsumeQueues(false));
    this.clean.start();
  }

  /** Runs `task` every `ms`, never overlapping itself; errors are logged. */
  private every(ms: number, task: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      task()
        .catch((err: unknown) => this.logger.error({ err }, 'store service task failed'))
        .finally(() => {
          busy = false;
        });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /**
   * §2.5: flush each ConsumeQueue with enough dirty pages; at the thorough interval (or `all`)
   * flush everything and persist the checkpoint with the pre-flush logics timestamp.
   */
  private async flushConsumeQueues(all: boolean): Promise<void> {
    const { config } = this;
    const thorough =
      all || Date.now() - this.lastCqThoroughFlush >= config.flushConsumeQueueThoroughInterval;
    const logicsTs = this.checkpoint.logicsMsgTimestamp;
    if (thorough) this.lastCqThoroughFlush = Date.now();
    for (const cq of this.queues.all()) {
      await cq.writeToFile().catch(() => undefined);
      await cq.flush(thorough ? 0 : config.flushConsumeQueueLeastPages);
    }
    await this.index
      ?.writePending()
      .catch((err: unknown) => this.logger.error({ err }, 'writing index entries failed'));
    if (thorough) {
      if (this.syncFlush === false) {
        // The physic timestamp may only cover what is durable.
        await this.commitLog.flushIfDirty(0);
      }
      const saved = this.checkpoint.logicsMsgTimestamp;
      this.checkpoint.logicsMsgTimestamp = logicsTs;
      await this.checkpoint.flush();
      this.checkpoint.logicsMsgTimestamp = saved;
    }
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.clean.stop();
    await this.commitLog.flushAll();
    await this.reput.catchUp();
    await this.reput.stop();
    const caughtUp = this.reput.behindBytes() === 0;
    await this.flushConsumeQueues(true);
    if (this.index !== undefined) await this.index.close();
    await this.queues.close();
    await this.commitLog.close();
    await this.checkpoint.close();
    if (caughtUp && !this.clean.diskFull) await fsp.rm(this.paths.abort, { force: true });
    await fsp.rm(this.paths.lock, { force: true });
    this.state = 'stopped';
    this.logger.info({ caughtUp }, 'message store shut down');
  }

  // ---------------------------------------------------------------- put

  /** A put refused before anything is written (§2.1 step 2), or undefined. */
  private refuse(now: number): PutMessageResult | undefined {
    if (this.state !== 'running')
      return this.failed(PutMessageStatus.SERVICE_NOT_AVAILABLE, 'message store is not running');
    if (this.role === 'SLAVE') {
      return this.failed(PutMessageStatus.SERVICE_NOT_AVAILABLE, 'a slave does not accept puts');
    }
    if (this.clean.diskFull) {
      return this.failed(
        PutMessageStatus.SERVICE_NOT_AVAILABLE,
        'disk full: CommitLog partition above diskSpaceWarningLevelRatio',
      );
    }
    const busy = this.commitLog.writeBusyMillis(now);
    if (busy > this.config.osPageCacheBusyTimeOutMills) {
      return this.failed(
        PutMessageStatus.OS_PAGE_CACHE_BUSY,
        `CommitLog write pending for ${busy} ms`,
      );
    }
    return undefined;
  }

  private failed(status: PutMessageStatus, remark: string): PutMessageResult {
    this.stats.putFailed++;
    return new PutMessageResult(status, -1, 0, -1, 0, 0, remark);
  }

  /**
   * Applies the delay rewrite (§2.1 step 3) and sizes the record; returns the failed result if
   * the message cannot be stored.
   */
  private prepare(msg: MessageToStore, delayAllowed: boolean): PreparedRecord | PutMessageResult {
    let { topic, queueId, properties } = msg;
    // Copied out: the scan result is shared scratch.
    const props = { ...scanStoreProps(properties) };
    const tx = transactionType(msg.sysFlag);
    // A message already parked (rewritten by a broker hook) is not parked twice; the scheduler
    // removes DELAY when it stores the message again for delivery.
    if (
      props.delayLevel > 0 &&
      topic !== SCHEDULE_TOPIC &&
      (tx === MessageSysFlag.TRANSACTION_NOT_TYPE || tx === MessageSysFlag.TRANSACTION_COMMIT_TYPE)
    ) {
      if (!delayAllowed) {
        return this.failed(PutMessageStatus.MESSAGE_ILLEGAL, 'a batch cannot carry delay levels');
      }
      const level = Math.min(props.delayLevel, this.delayLevels.length);
      let extra =
        `${MessageConst.REAL_TOPIC}\u0001${topic}\u0002` +
        `${MessageConst.REAL_QID}\u0001${queueId}\u0002`;
      if (level !== props.delayLevel) extra += `${MessageConst.DELAY}\u0001${level}\u0002`;
      properties = appendProperties(properties, extra);
      topic = SCHEDULE_TOPIC;
      queueId = level - 1;
    }
    const topicLength = Buffer.byteLength(topic, 'utf8');
    if (topicLength > MAX_TOPIC_LENGTH || topicLength === 0) {
      return this.failed(
        PutMessageStatus.MESSAGE_ILLEGAL,
        `topic length ${topicLength} is not 1..${MAX_TOPIC_LENGTH}`,
      );
    }
    const propertiesLength = Buffer.byteLength(properties, 'utf8');
    if (propertiesLength > MAX_PROPERTIES_LENGTH) {
      return this.failed(
        PutMessageStatus.PROPERTIES_SIZE_EXCEEDED,
        `properties are ${propertiesLength} bytes, more than ${MAX_PROPERTIES_LENGTH}`,
      );
    }
    if (!Buffer.isBuffer(msg.body))
      return this.failed(PutMessageStatus.MESSAGE_ILLEGAL, 'message has no body');
    const size = recordSize(msg.body.length, topicLength, propertiesLength);
    if (size > this.config.maxMessageSize) {
      return this.failed(
        PutMessageStatus.MESSAGE_ILLEGAL,
        `message record is ${size} bytes, more than maxMessageSize ${this.config.maxMessageSize}`,
      );
    }
    if (!Number.isInteger(queueId) || queueId < 0) {
      return this.failed(PutMessageStatus.MESSAGE_ILLEGAL, `queueId ${queueId} is invalid`);
    }
    try {
      hostIPv4(msg.bornHost);
      hostIPv4(msg.storeHost);
    } catch (err) {
      return this.failed(PutMessageStatus.MESSAGE_ILLEGAL, (err as Error).message);
    }
    if (topic === SCHEDULE_TOPIC && props.delayLevel > this.delayLevels.length) {
      props.delayLevel = this.delayLevels.length;
    }
    return {
      msg,
      topic,
      queueId,
      properties,
      topicLength,
      propertiesLength,
      size,
      wait: props.wait,
      props,
    };
  }

  putMessage(msg: MessageToStore): Promise<PutMessageResult> {
    const now = Date.now();
    const refused = this.refuse(now);
    if (refused !== undefined) return Promise.resolve(refused);
    const prepared = this.prepare(msg, true);
    if (prepared instanceof PutMessageResult) return Promise.resolve(prepared);
    return this.append([prepared], prepared.wait, now);
  }

  putMessages(msgs: MessageToStore[]): Promise<PutMessageResult> {
    const now = Date.now();
    const refused = this.refuse(now);
    if (refused !== undefined) return Promise.resolve(refused);
    if (msgs.length === 0)
      return Promise.resolve(this.failed(PutMessageStatus.MESSAGE_ILLEGAL, 'empty batch'));
    const records: PreparedRecord[] = [];
    for (const msg of msgs) {
      if (transactionType(msg.sysFlag) !== MessageSysFlag.TRANSACTION_NOT_TYPE) {
        return Promise.resolve(
          this.failed(PutMessageStatus.MESSAGE_ILLEGAL, 'a batch cannot be transactional'),
        );
      }
      const prepared = this.prepare(msg, false);
      if (prepared instanceof PutMessageResult) return Promise.resolve(prepared);
      if (prepared.topic !== records[0]?.topic && records.length > 0) {
        return Promise.resolve(
          this.failed(PutMessageStatus.MESSAGE_ILLEGAL, 'a batch must have one topic'),
        );
      }
      if (records.length > 0 && prepared.queueId !== records[0].queueId) {
        return Promise.resolve(
          this.failed(PutMessageStatus.MESSAGE_ILLEGAL, 'a batch must have one queue'),
        );
      }
      records.push(prepared);
    }
    return this.append(records, records[0].wait, now);
  }

  async flush(): Promise<number> {
    await this.commitLog.flushAll();
    return this.commitLog.durableOffset();
  }

  /**
   * Appends records (one message or a same-queue batch) as one contiguous range in one file,
   * assigning queue offsets, physical offsets and the store time; resolves when the write (and,
   * under SYNC_FLUSH with WAIT, the sync) is done or failed. `started` is the store time.
   */
  private append(
    records: PreparedRecord[],
    wait: boolean,
    started: number,
  ): Promise<PutMessageResult> {
    let total = 0;
    for (const r of records) total += r.size;
    const { topic, queueId } = records[0];
    const tx = transactionType(records[0].msg.sysFlag);
    const assignsOffset =
      tx === MessageSysFlag.TRANSACTION_NOT_TYPE || tx === MessageSysFlag.TRANSACTION_COMMIT_TYPE;
    const firstQueueOffset = assignsOffset ? this.queueOffsets.get(topic, queueId) : 0;
    const storeTimestamp = started;
    const slot = this.commitLog.slotFor(total);
    const offsets: number[] | undefined = records.length > 1 ? [] : undefined;
    let pos = slot.pos;
    let queueOffset = firstQueueOffset;
    // One object filled per record rather than a literal each: encodeRecordInto keeps no reference.
    const rec = this.recordScratch;
    rec.storeTimestamp = storeTimestamp;
    for (const r of records) {
      const m = r.msg;
      const recordOffset = slot.offset + (pos - slot.pos);
      rec.topic = r.topic;
      rec.queueId = r.queueId;
      rec.flag = m.flag;
      rec.queueOffset = queueOffset;
      rec.physicalOffset = recordOffset;
      rec.sysFlag = m.sysFlag;
      rec.bornTimestamp = m.bornTimestamp;
      rec.bornHost = m.bornHost;
      rec.storeHost = m.storeHost;
      rec.reconsumeTimes = m.reconsumeTimes;
      rec.preparedTransactionOffset = m.preparedTransactionOffset;
      rec.body = m.body;
      rec.properties = r.properties;
      rec.topicByteLength = r.topicLength;
      rec.propertiesByteLength = r.propertiesLength;
      encodeRecordInto(rec, slot.buf, pos);
      offsets?.push(recordOffset);
      this.reput.addHint({
        offset: recordOffset,
        size: r.size,
        topic: r.topic,
        tagsCode: tagsCodeOf(r.topic, r.props, storeTimestamp, this.delayLevels),
        keys: r.props.keys,
        uniqKey: r.props.uniqKey,
      });
      pos += r.size;
      if (assignsOffset) queueOffset++;
    }
    if (assignsOffset) this.queueOffsets.set(topic, queueId, queueOffset);
    const end = slot.offset + total;
    return new Promise((resolve) => {
      this.commitLog.commitAppend(total, storeTimestamp, {
        end,
        complete: (err) => {
          if (err !== undefined) {
            this.reput.dropHintsFrom(slot.offset);
            if (assignsOffset) {
              if (this.queueOffsets.get(topic, queueId) > firstQueueOffset)
                this.queueOffsets.set(topic, queueId, firstQueueOffset);
            }
            const status = isNoSpaceError(err)
              ? PutMessageStatus.SERVICE_NOT_AVAILABLE
              : PutMessageStatus.UNKNOWN_ERROR;
            resolve(this.failed(status, `CommitLog write failed: ${err.message}`));
            return;
          }
          const result = (status: PutMessageStatus) => {
            this.recordPut(total, started);
            const r = new PutMessageResult(
              status,
              slot.offset,
              total,
              firstQueueOffset,
              storeTimestamp,
              records.length,
              '',
              records[0].msg.storeHost,
            );
            r.batchOffsets = offsets;
            resolve(r);
          };
          if (!this.syncFlush) {
            this.reput.afterDispatch(end, () => result(PutMessageStatus.PUT_OK));
          } else if (wait) {
            void this.commitLog.waitDurable(end).then((ok) => {
              if (ok) this.reput.afterDispatch(end, () => result(PutMessageStatus.PUT_OK));
              else result(PutMessageStatus.FLUSH_DISK_TIMEOUT);
            });
          } else {
            // WAIT=false: answered once written; it becomes consumable after the next sync.
            result(PutMessageStatus.PUT_OK);
          }
        },
      });
    });
  }

  private recordPut(bytes: number, started: number): void {
    const s = this.stats;
    s.putTimes++;
    s.putBytes += bytes;
    const took = Date.now() - started;
    if (took > s.putMaxMillis) s.putMaxMillis = took;
  }

  // ---------------------------------------------------------------- get

  async getMessage(req: GetMessageRequest): Promise<GetMessageResult> {
    const { topic, queueId, offset, filter } = req;
    const maxMsgNums = Math.max(1, req.maxMsgNums);
    const maxTotalBytes = req.maxTotalBytes ?? Number.MAX_SAFE_INTEGER;
    const result: GetMessageResult = {
      status: GetMessageStatus.NO_MESSAGE_IN_QUEUE,
      nextBeginOffset: offset,
      minOffset: 0,
      maxOffset: 0,
      messages: [],
      bufferTotalSize: 0,
      suggestPullingFromSlave: false,
    };
    const cq = this.queues?.find(topic, queueId);
    if (cq === undefined) {
      result.status = GetMessageStatus.NO_MATCHED_LOGIC_QUEUE;
      result.nextBeginOffset = 0;
      return result;
    }
    const minOffset = cq.minOffset();
    const maxOffset = cq.maxOffset();
    result.minOffset = minOffset;
    result.maxOffset = maxOffset;
    if (maxOffset === 0) {
      result.status = GetMessageStatus.NO_MESSAGE_IN_QUEUE;
      result.nextBeginOffset = 0;
      return result;
    }
    if (offset < minOffset) {
      result.status = GetMessageStatus.OFFSET_TOO_SMALL;
      result.nextBeginOffset = minOffset;
      return result;
    }
    if (offset === maxOffset) {
      result.status = GetMessageStatus.OFFSET_OVERFLOW_ONE;
      return result;
    }
    if (offset > maxOffset) {
      result.status = GetMessageStatus.OFFSET_OVERFLOW_BADLY;
      result.nextBeginOffset = minOffset === 0 ? minOffset : maxOffset;
      return result;
    }
    const maxFilterEntries = Math.floor(
      Math.max(this.config.maxFilterMessageCount, maxMsgNums * CQ_UNIT_SIZE) / CQ_UNIT_SIZE,
    );
    // Without a filter every entry is taken, so reading a few past the count is enough.
    const wanted =
      filter === undefined ? Math.min(maxFilterEntries, maxMsgNums + 16) : maxFilterEntries;
    const got = await cq.getEntries(offset, wanted);
    if (got === undefined || got.count === 0) {
      result.status = GetMessageStatus.OFFSET_FOUND_NULL;
      result.nextBeginOffset = cq.rollNextFile(offset);
      return result;
    }
    // A copy: the queue's tail buffer may move while this read awaits the CommitLog.
    const entries = Buffer.from(got.buf.subarray(got.pos, got.pos + got.count * CQ_UNIT_SIZE));
    const maxPhy = this.commitLog.readableOffset();
    // Pass 1: pick the entries to return from the queue alone (sizes and tag codes).
    const picked: number[] = []; // [entry index, offsetPy, sizePy] triples
    let pickedBytes = 0;
    let status: GetMessageStatus = GetMessageStatus.NO_MATCHED_MESSAGE;
    let maxPhyPulling = 0;
    let i = 0;
    for (; i < got.count; i++) {
      const p = i * CQ_UNIT_SIZE;
      const offsetPy = readInt64BE(entries, p);
      const sizePy = entries.readInt32BE(p + 8);
      maxPhyPulling = offsetPy;
      if (sizePy === CQ_FILLER_SIZE || sizePy <= 0) continue;
      const inDisk = maxPhy - offsetPy > this.memoryForHotData;
      const count = picked.length / 3;
      if (this.isBatchFull(sizePy, maxMsgNums, maxTotalBytes, pickedBytes, count, inDisk)) break;
      if (filter !== undefined && !filter.isMatchedByConsumeQueue(readInt64BE(entries, p + 12))) {
        continue;
      }
      picked.push(i, offsetPy, sizePy);
      pickedBytes += sizePy;
    }
    let nextIndex = i;
    // Pass 2: group the picked records into spans (close-together records share one read) and
    // read the spans in parallel.
    const spans: { first: number; last: number; start: number; end: number }[] = [];
    for (let k = 0; k < picked.length;) {
      const start = picked[k + 1];
      const limit = this.commitLog.forwardReadLimit(start);
      let end = start + picked[k + 2];
      let last = k + 3;
      while (last < picked.length) {
        const off = picked[last + 1];
        const recordEnd = off + picked[last + 2];
        if (off < end || off - end > READ_SPAN_GAP || recordEnd > limit) break;
        if (recordEnd - start > READ_SPAN_MAX) break;
        end = recordEnd;
        last += 3;
      }
      spans.push({ first: k, last, start, end });
      k = last;
    }
    const bufs = await Promise.all(
      spans.map((sp) => this.commitLog.readForward(sp.start, sp.end - sp.start)),
    );
    for (let n = 0; n < spans.length; n++) {
      const { first, last, start } = spans[n];
      const buf = bufs[n];
      if (buf === undefined) {
        if (result.messages.length === 0) status = GetMessageStatus.MESSAGE_WAS_REMOVING;
        if (start >= this.commitLog.minOffset()) {
          // Not deleted, just unreadable now (I/O error): stop here, the consumer retries.
          nextIndex = picked[first];
          break;
        }
        continue;
      }
      for (let j = first; j < last; j += 3) {
        const from = picked[j + 1] - start;
        const record = buf.subarray(from, from + picked[j + 2]);
        if (filter !== undefined && !filter.isMatchedByCommitLog(record)) continue;
        result.messages.push(record);
        result.bufferTotalSize += record.length;
        status = GetMessageStatus.FOUND;
      }
    }
    result.status = status;
    result.nextBeginOffset = offset + nextIndex;
    result.suggestPullingFromSlave = maxPhy - maxPhyPulling > this.memoryForHotData;
    return result;
  }

  /** RocketMQ's `isTheBatchFull`, plus the request's own byte cap. */
  private isBatchFull(
    sizePy: number,
    maxMsgNums: number,
    maxTotalBytes: number,
    bufferTotal: number,
    messageTotal: number,
    inDisk: boolean,
  ): boolean {
    if (bufferTotal === 0 || messageTotal === 0) return false;
    if (maxMsgNums <= messageTotal) return true;
    if (bufferTotal + sizePy > maxTotalBytes) return true;
    const c = this.config;
    const maxBytes = inDisk
      ? c.maxTransferBytesOnMessageInDisk
      : c.maxTransferBytesOnMessageInMemory;
    const maxCount = inDisk
      ? c.maxTransferCountOnMessageInDisk
      : c.maxTransferCountOnMessageInMemory;
    return bufferTotal + sizePy > maxBytes || messageTotal > maxCount - 1;
  }

  getMaxOffsetInQueue(topic: string, queueId: number): number {
    return this.queues?.find(topic, queueId)?.maxOffset() ?? 0;
  }

  getMinOffsetInQueue(topic: string, queueId: number): number {
    return this.queues?.find(topic, queueId)?.minOffset() ?? 0;
  }

  async getOffsetInQueueByTime(topic: string, queueId: number, timestamp: number): Promise<number> {
    const cq = this.queues?.find(topic, queueId);
    if (cq === undefined) return 0;
    return cq.offsetByTime(timestamp, (off, size) => this.commitLog.storeTimestampAt(off, size));
  }

  async getEarliestMessageTime(topic: string, queueId: number): Promise<number> {
    const cq = this.queues?.find(topic, queueId);
    if (cq === undefined || cq.maxOffset() <= cq.minOffset()) return -1;
    return this.getMessageStoreTimestamp(topic, queueId, cq.minOffset());
  }

  async getMessageStoreTimestamp(topic: string, queueId: number, offset: number): Promise<number> {
    const e = await this.queues?.find(topic, queueId)?.getEntry(offset);
    if (e === undefined || e[1] === CQ_FILLER_SIZE) return -1;
    return this.commitLog.storeTimestampAt(e[0], e[1]);
  }

  lookMessageByOffset(commitLogOffset: number): Promise<Buffer | undefined> {
    return this.commitLog.readRecord(commitLogOffset);
  }

  async queryMessage(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<QueryMessageResult> {
    const none: QueryMessageResult = {
      messages: [],
      indexLastUpdateTimestamp: 0,
      indexLastUpdatePhyoffset: 0,
    };
    if (this.index === undefined) return none;
    const limit = Math.max(0, Math.min(maxNum, this.config.maxMsgsNumBatch));
    const found = await this.index.queryOffset(topic, key, limit, begin, end);
    const messages: Buffer[] = [];
    for (const off of found.phyOffsets) {
      const record = await this.commitLog.readRecord(off);
      if (record !== undefined) messages.push(record);
    }
    return {
      messages,
      indexLastUpdateTimestamp: found.indexLastUpdateTimestamp,
      indexLastUpdatePhyoffset: found.indexLastUpdatePhyoffset,
    };
  }

  getMinPhyOffset(): number {
    return this.commitLog.minOffset();
  }

  getMaxPhyOffset(): number {
    return this.commitLog.maxOffset();
  }

  // ---------------------------------------------------------------- replication (§5)

  setBrokerRole(role: BrokerRole): void {
    // A slave's puts never ran: the next queue offsets come from what it dispatched.
    if (this.role === 'SLAVE' && role !== 'SLAVE') this.rebuildQueueOffsets();
    this.role = role;
  }

  get brokerRole(): BrokerRole {
    return this.role;
  }

  getCommitLogData(offset: number, maxLength: number): Promise<Buffer | undefined> {
    return this.commitLog.readSlice(offset, maxLength, Number.MAX_SAFE_INTEGER);
  }

  appendReplicated(offset: number, data: Buffer): Promise<void> {
    const log = this.commitLog;
    if (this.state !== 'running') return Promise.reject(new StoreError('store is not running'));
    if (offset !== log.maxOffset()) {
      return Promise.reject(
        new StoreError(
          `replicated bytes start at ${offset}, the CommitLog ends at ${log.maxOffset()}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      log.appendReplicated(data, {
        end: offset + data.length,
        complete: (err) => (err === undefined ? resolve() : reject(err)),
      });
    });
  }

  async startCommitLogAt(offset: number): Promise<void> {
    if (this.commitLog.maxOffset() !== 0 || !this.commitLog.files.isEmpty) {
      throw new StoreError('only an empty CommitLog can start past offset 0');
    }
    await this.truncateCommitLog(offset);
  }

  async truncateCommitLog(offset: number): Promise<void> {
    const log = this.commitLog;
    await log.drainWrites();
    await this.reput.pause();
    try {
      const before = log.maxOffset();
      await log.truncateTo(offset);
      for (const cq of this.queues.all()) {
        if (cq.lastPhysicalEnd() > offset) await cq.truncateDirty(offset);
      }
      if (this.index !== undefined) await this.index.truncate(offset);
      this.rebuildQueueOffsets();
      this.logger.warn({ offset, before }, 'CommitLog and consume queues truncated');
    } finally {
      this.reput.resumeAt(offset);
    }
  }

  async lastCompleteRecordEnd(): Promise<number> {
    await this.commitLog.flushAll();
    return this.reput.dispatchComplete();
  }

  async deleteTopics(topics: Iterable<string>): Promise<void> {
    for (const topic of topics) {
      await this.queues.deleteTopic(topic);
      this.queueOffsets.deleteTopic(topic);
    }
  }

  onMessageArrived(listener: MessageArrivedListener): void {
    this.listeners.push(listener);
  }

  onFlushed(listener: (seconds: number) => void): void {
    this.flushListeners.push(listener);
  }

  /**
   * Runs one retention pass now (tests, and the admin "deleteExpiredCommitLog" trigger);
   * returns the number of CommitLog files deleted.
   */
  cleanExpiredFiles(now = new Date(), manual = true): Promise<number> {
    return this.clean.runOnce(now, manual);
  }

  runtimeInfo(): Record<string, string> {
    const s = this.stats;
    const usage = this.clean?.lastUsage;
    const info: Record<string, string> = {
      bootTimestamp: String(s.bootTimestamp),
      putMessageTimesTotal: String(s.putTimes),
      putMessageSizeTotal: String(s.putBytes),
      putMessageFailedTimes: String(s.putFailed),
      putMessageAverageSize: String(s.putTimes > 0 ? s.putBytes / s.putTimes : 0),
      putMessageEntireTimeMax: String(s.putMaxMillis),
      commitLogMinOffset: String(this.commitLog?.minOffset() ?? 0),
      commitLogMaxOffset: String(this.commitLog?.maxOffset() ?? 0),
      remainHowManyDataToFlush: String(this.commitLog?.unflushedBytes() ?? 0),
      dispatchBehindBytes: String(this.reput?.behindBytes() ?? 0),
      pageCacheLockTimeMills: String(this.commitLog?.writeBusyMillis(Date.now()) ?? 0),
      commitLogDiskRatio: String(this.clean?.commitLogDiskRatio ?? -1),
      consumeQueueDiskRatio: String(this.clean?.commitLogDiskRatio ?? -1),
    };
    if (usage !== undefined)
      info.commitLogDirCapacity = `Total : ${usage.total}, Free : ${usage.free}.`;
    return info;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
