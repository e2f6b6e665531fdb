/**
 * The dispatcher (RocketMQ's ReputMessageService, broker-internals.md §2.4): follows the
 * CommitLog from `reputFromOffset` to the dispatch end and, for every record, appends its
 * ConsumeQueue entry at the queue offset stored in the record (never for PREPARED/ROLLBACK
 * transaction messages), indexes its keys, and tells the arrival listener. It is the only writer
 * of ConsumeQueues and indexes, which is why both can always be rebuilt from the CommitLog.
 *
 * The dispatch end is the readable end under ASYNC_FLUSH and the durable end under SYNC_FLUSH
 * (5.x behaviour, §17.16): a consumer never sees a message a crash could take back.
 */
import type { Logger } from 'pino';
import {
  checkRecord,
  readPropertiesString,
  readQueueId,
  readQueueOffset,
  readStoreTimestamp,
  readSysFlag,
  readTopic,
} from '../../common/message/record';
import { MessageSysFlag, transactionType } from '../../common/message/sysflag';
import type { StoreCheckpoint } from './checkpoint';
import { type CommitLog, SCAN_READ_SIZE } from './commit-log';
import type { ConsumeQueue } from './consume-queue';
import type { ConsumeQueueTable } from './consume-queue-table';
import type { IndexService } from './index-service';
import { scanStoreProps, tagsCodeOf } from './message-props';
import type { MessageArrivedListener } from './message-types';
import { takeReached } from './ordered-waiters';

/** Entries a ConsumeQueue or the index gathers before the dispatcher writes them. */
const WRITE_BATCH_ENTRIES = 1024;

/**
 * What the put path already knows about a record it appended, so that dispatching it needs no
 * parsing of its topic and properties. Keyed by the record's CommitLog offset.
 */
export interface DispatchHint {
  offset: number;
  /** TOTALSIZE of the record, which the put path encoded itself: no need to validate it again. */
  size: number;
  topic: string;
  tagsCode: number;
  keys: string | undefined;
  uniqKey: string | undefined;
}

export interface ReputOptions {
  commitLog: CommitLog;
  queues: ConsumeQueueTable;
  index: IndexService | undefined;
  checkpoint: StoreCheckpoint;
  delayLevels: readonly number[];
  syncFlush: boolean;
  logger: Logger;
  listeners: readonly MessageArrivedListener[];
}

export class ReputService {
  /** Next CommitLog byte to dispatch. */
  reputFromOffset = 0;
  private running: Promise<void> = Promise.resolve();
  private active = false;
  private again = false;
  private stopped = false;
  private readonly touched = new Set<ConsumeQueue>();
  /** Hints of appended records not yet dispatched, in offset order from `hintHead`. */
  private hints: DispatchHint[] = [];
  private hintHead = 0;
  /** Callbacks waiting for dispatch to pass an offset, in offset order. */
  private waiters: { end: number; done: () => void }[] = [];

  constructor(private readonly opts: ReputOptions) {}

  /** Where dispatch may go up to now. */
  dispatchEnd(): number {
    const log = this.opts.commitLog;
    return this.opts.syncFlush ? log.durableOffset() : log.readableOffset();
  }

  behindBytes(): number {
    return Math.max(0, this.dispatchEnd() - this.reputFromOffset);
  }

  /**
   * Calls `done` once everything before `end` is dispatched (puts resolve then, so a message is
   * consumable when its put returns). Ends must be registered in increasing order.
   */
  afterDispatch(end: number, done: () => void): void {
    if (this.reputFromOffset >= end) done();
    else this.waiters.push({ end, done });
  }

  private releaseWaiters(): void {
    for (const x of takeReached(this.waiters, this.reputFromOffset)) x.done();
  }

  /** Registers a hint for a record just appended (offsets increase from call to call). */
  addHint(hint: DispatchHint): void {
    this.hints.push(hint);
  }

  /** Forgets the hints of records at or after `offset` (their write failed; the bytes are gone). */
  dropHintsFrom(offset: number): void {
    const h = this.hints;
    while (h.length > this.hintHead && h[h.length - 1].offset >= offset) h.pop();
  }

  /**
   * The hint the put path left for the record at `offset`, the next one to dispatch: hints of
   * records before it are dispatched and dropped; this one stays until dispatch moves past it.
   */
  private hintAt(offset: number): DispatchHint | undefined {
    const h = this.hints;
    while (this.hintHead < h.length && h[this.hintHead].offset < offset) this.hintHead++;
    if (this.hintHead >= 4096 && this.hintHead * 2 >= h.length) {
      h.splice(0, this.hintHead);
      this.hintHead = 0;
    }
    const hint = h[this.hintHead];
    return hint?.offset === offset ? hint : undefined;
  }

  /** Starts a dispatch round now, or right after the one in progress. */
  wake(): void {
    if (this.stopped) return;
    if (this.active) {
      this.again = true;
      return;
    }
    this.active = true;
    this.running = this.loop();
  }

  /** Dispatches until caught up with the dispatch end as of the call. */
  async catchUp(): Promise<void> {
    while (this.reputFromOffset < this.dispatchEnd() && !this.stopped) {
      const from = this.reputFromOffset;
      this.wake();
      await this.running;
      if (this.reputFromOffset === from && !this.active) {
        this.opts.logger.error(
          { offset: from },
          'dispatch makes no progress; giving up catching up',
        );
        return;
      }
    }
  }

  /**
   * Dispatches every complete record now readable and returns the end of the last one: on a
   * slave the CommitLog may end mid-record, and that end is where a promotion cuts it.
   */
  async dispatchComplete(): Promise<number> {
    for (;;) {
      const from = this.reputFromOffset;
      this.wake();
      await this.running;
      if (this.reputFromOffset === from) return from;
    }
  }

  /** Stops dispatching (after the round in progress) until {@link resumeAt}. */
  async pause(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Dispatches again, from `offset` at the latest (the CommitLog was cut there). */
  resumeAt(offset: number): void {
    this.reputFromOffset = Math.min(this.reputFromOffset, offset);
    this.hints = [];
    this.hintHead = 0;
    this.stopped = false;
    this.wake();
  }

  /** Stops after the round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Dispatch rounds while woken; clears `active` as it returns, so no wake is missed. */
  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.dispatchAvailable();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.opts.logger.error({ err, offset: this.reputFromOffset }, 'dispatch round failed');
    } finally {
      this.active = false;
    }
  }

  private async dispatchAvailable(): Promise<void> {
    const log = this.opts.commitLog;
    while (!this.stopped) {
      if (this.reputFromOffset < log.minOffset()) {
        this.opts.logger.warn(
          { from: this.reputFromOffset, min: log.minOffset() },
          'dispatch offset below the CommitLog start; jumping to it',
        );
        this.reputFromOffset = log.minOffset();
      }
      const end = this.dispatchEnd();
      if (this.reputFromOffset >= end) return;
      let slice = await log.dispatchSlice(this.reputFromOffset, SCAN_READ_SIZE, end);
      if (slice === undefined) {
        this.opts.logger.error(
          { offset: this.reputFromOffset },
          'dispatch could not read the CommitLog',
        );
        return;
      }
      const base = this.reputFromOffset;
      let pos = 0;
      while (pos < slice.length) {
        const hint = this.hintAt(base + pos);
        const size =
          hint !== undefined && pos + hint.size <= slice.length
            ? hint.size
            : checkRecord(slice, pos, slice.length, false);
        if (size > 0) {
          this.dispatchRecord(slice, pos, base + pos, size, hint);
          pos += size;
          continue;
        }
        if (size === 0) {
          // Blank filler: the rest of the file is empty.
          pos = log.rollNextFile(base + pos) - base;
          break;
        }
        const remain = slice.length - pos;
        const total = remain >= 4 ? slice.readInt32BE(pos) : 0;
        const fitsFile = total > 0 && base + pos + total <= log.rollNextFile(base + pos);
        // A slave receives records in pieces (§5.2): an incomplete last record waits for the rest.
        if (base + slice.length >= end && (remain < 8 || (fitsFile && base + pos + total > end))) {
          break;
        }
        if (fitsFile && pos + total > slice.length && base + pos + total <= end) {
          if (pos === 0) {
            // A record longer than one read: read it whole.
            const whole = await log.dispatchSlice(base, total, end);
            if (whole === undefined || whole.length < total) return;
            slice = whole;
            continue;
          }
          break; // the next round starts at this record
        }
        this.opts.logger.error(
          { offset: base + pos, total },
          '[BUG] unreadable record in the written CommitLog; skipping to the next file',
        );
        pos = log.rollNextFile(base + pos) - base;
        break;
      }
      // Nothing complete to dispatch: the tail record is still arriving.
      if (pos === 0) return;
      this.reputFromOffset = base + pos;
      this.releaseWaiters();
      await this.writeTouched();
    }
  }

  private dispatchRecord(
    buf: Buffer,
    pos: number,
    phyOffset: number,
    size: number,
    hint: DispatchHint | undefined,
  ): void {
    const o = this.opts;
    const sysFlag = readSysFlag(buf, pos);
    const storeTimestamp = readStoreTimestamp(buf, pos);
    let topic: string;
    let tagsCode: number;
    let keys: string | undefined;
    let uniqKey: string | undefined;
    if (hint !== undefined) {
      ({ topic, tagsCode, keys, uniqKey } = hint);
    } else {
      topic = readTopic(buf, pos);
      const props = scanStoreProps(readPropertiesString(buf, pos));
      tagsCode = tagsCodeOf(topic, props, storeTimestamp, o.delayLevels);
      keys = props.keys;
      uniqKey = props.uniqKey;
    }
    const tx = transactionType(sysFlag);
    if (
      tx === MessageSysFlag.TRANSACTION_NOT_TYPE ||
      tx === MessageSysFlag.TRANSACTION_COMMIT_TYPE
    ) {
      const queueId = readQueueId(buf, pos);
      const queueOffset = readQueueOffset(buf, pos);
      const cq = o.queues.findOrCreate(topic, queueId);
      if (cq.putEntry(queueOffset, phyOffset, size, tagsCode)) {
        this.touched.add(cq);
        o.checkpoint.logicsMsgTimestamp = storeTimestamp;
        for (const l of o.listeners) l(topic, queueId, queueOffset + 1, tagsCode, storeTimestamp);
      }
    }
    if (o.index !== undefined) {
      o.index.buildIndex(topic, phyOffset, storeTimestamp, sysFlag, keys, uniqKey);
    }
  }

  /**
   * Hands new entries to the kernel once a queue has gathered a batch of them: one write per
   * batch instead of per round. Entries not yet written are served from memory and written by
   * the periodic ConsumeQueue flush or at shutdown; a crash loses none of them for good, since
   * recovery re-dispatches them from the CommitLog.
   */
  private async writeTouched(): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const cq of this.touched) {
      const pending = cq.pendingWrites();
      if (pending >= WRITE_BATCH_ENTRIES) writes.push(cq.writeToFile());
      if (pending === 0 || pending >= WRITE_BATCH_ENTRIES) this.touched.delete(cq);
    }
    if (this.opts.index !== undefined)
      writes.push(this.opts.index.writePending(WRITE_BATCH_ENTRIES));
    const results = await Promise.allSettled(writes);
    for (const r of results) {
      if (r.status === 'rejected') {
        this.opts.logger.error(
          { err: r.reason as Error },
          'writing consume queue or index entries failed',
        );
      }
    }
  }
}
