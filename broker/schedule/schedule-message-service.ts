import type { Logger } from '../../common/logger';
import { MessageConst } from '../../common/message/properties';
import { decodeRecord, type MessageRecord } from '../../common/message/record';
import { SCHEDULE_TOPIC, TRANS_HALF_TOPIC } from '../metadata/system-topics';
import type { MessageStore } from '../store/message-store';
import type { MessageToStore } from '../store/message-types';
import { realTarget, toMessageToStore } from '../store/restored-message';
import { GetMessageStatus, isStored, PutMessageStatus } from '../store/status';
import { parseDelayLevels } from '../store/store-config';
import { DelayOffsetTable } from './delay-offset-table';

/** Entries read from a level's queue per store call. */
const BATCH = 32;
/** Retry after a refused put (store busy, disk full): Java's DELAY_FOR_A_PERIOD. */
const RETRY_AFTER_FAILURE_MS = 10_000;
/** How often a slave looks whether it became master (nothing else runs on a slave). */
const SLAVE_RECHECK_MS = 1000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ScheduleSettings {
  /** `"1s 5s 10s …"`: the delay of each level (broker-internals.md §9.1). */
  messageDelayLevel: string;
  /** How often `delayOffset.json` is written when it changed. */
  flushDelayOffsetInterval: number;
}

/** One delay level: queue `level − 1` of SCHEDULE_TOPIC_XXXX, a FIFO by due time. */
interface LevelState {
  level: number;
  delayMs: number;
  timer?: NodeJS.Timeout;
  /** When the armed timer fires. */
  timerAt: number;
  /** The run in progress, if any. */
  running?: Promise<void>;
  /** Earliest due time of messages that arrived while a run was in progress (else Infinity). */
  arrivedDuring: number;
}

/**
 * Delivers delay messages (RocketMQ ScheduleMessageService, broker-internals.md §9.2): the store
 * parks a message with a DELAY level in SCHEDULE_TOPIC_XXXX queue `level − 1` (with REAL_TOPIC /
 * REAL_QID, tag code = due time); this service re-stores each message into its real topic and
 * queue when due, without DELAY, and records per level the next queue offset to deliver in
 * `delayOffset.json`.
 *
 * No polling: each level has at most one timer, armed for the due time of its head message,
 * and an idle level is woken by the store's arrival notification. Delivery is at least once: the
 * offset advances only after the re-stored copy is acknowledged by the store (with the flush the
 * store's mode requires), so a crash re-delivers at most what was delivered since the last write
 * of `delayOffset.json`. Only a master delivers.
 */
export class ScheduleMessageService {
  private readonly levels: LevelState[];
  private readonly offsets: DelayOffsetTable;
  private flushTimer?: NodeJS.Timeout;
  private stopped = true;
  private wasSlave = false;
  /** The reload of `delayOffset.json` after this broker stopped being a slave. */
  private reloaded: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: MessageStore,
    offsetsPath: string,
    private readonly settings: ScheduleSettings,
    private readonly logger: Logger,
  ) {
    this.offsets = new DelayOffsetTable(offsetsPath, logger);
    this.levels = parseDelayLevels(settings.messageDelayLevel).map((delayMs, i) => ({
      level: i + 1,
      delayMs,
      timerAt: Infinity,
      arrivedDuring: Infinity,
    }));
    store.onMessageArrived((topic, queueId, _logicOffset, tagsCode) => {
      if (topic === SCHEDULE_TOPIC) this.messageArrived(queueId + 1, tagsCode);
    });
  }

  /** Loads `delayOffset.json` and looks at every level once (start of the broker). */
  async start(): Promise<void> {
    await this.offsets.load();
    this.stopped = false;
    const now = Date.now();
    for (const state of this.levels) this.arm(state, now);
    this.flushTimer = setInterval(() => {
      this.offsets
        .flushIfDirty()
        .catch((err: unknown) => this.logger.error({ err }, 'cannot persist delayOffset.json'));
    }, this.settings.flushDelayOffsetInterval);
    this.flushTimer.unref();
    this.logger.info({ levels: this.levels.length }, 'schedule message service started');
  }

  /** Stops the timers, waits for deliveries in progress and writes `delayOffset.json`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.flushTimer);
    for (const state of this.levels) clearTimeout(state.timer);
    await Promise.all(this.levels.map((s) => s.running));
    await this.offsets.flushIfDirty();
  }

  /** `scheduleMessageOffset_<level>` = `"<delayOffset>,<maxOffset>"` (GET_BROKER_RUNTIME_INFO). */
  runtimeInfo(): Record<string, string> {
    const info: Record<string, string> = {};
    for (const { level } of this.levels) {
      const max = this.store.getMaxOffsetInQueue(SCHEDULE_TOPIC, level - 1);
      info[`scheduleMessageOffset_${level}`] = `${this.offsets.get(level)},${max}`;
    }
    return info;
  }

  /** A message became readable in a level's queue; `dueAt` is its tag code (delivery time). */
  private messageArrived(level: number, dueAt: number): void {
    const state = this.levels[level - 1];
    if (!state || this.stopped) return;
    if (state.running) state.arrivedDuring = Math.min(state.arrivedDuring, dueAt);
    else this.arm(state, dueAt);
  }

  /** Makes sure the level runs at `at` at the latest. */
  private arm(state: LevelState, at: number): void {
    if (this.stopped || state.running || state.timerAt <= at) return;
    clearTimeout(state.timer);
    state.timerAt = at;
    state.timer = setTimeout(
      () => {
        state.timer = undefined;
        state.timerAt = Infinity;
        state.running = this.run(state).then((next) => this.afterRun(state, next));
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())),
    );
    state.timer.unref();
  }

  /** Arms the level for the earlier of what the run asked for and what arrived meanwhile. */
  private afterRun(state: LevelState, next: number | undefined): void {
    state.running = undefined;
    const at = Math.min(next ?? Infinity, state.arrivedDuring);
    state.arrivedDuring = Infinity;
    if (at !== Infinity) this.arm(state, at);
  }

  /**
   * Delivers the level's due messages in order. Returns when to run again (the next message's
   * due time, or a retry), or undefined when the queue is drained and an arrival will wake it.
   */
  private async run(state: LevelState): Promise<number | undefined> {
    try {
      while (!this.stopped) {
        if (this.store.brokerRole === 'SLAVE') {
          this.wasSlave = true;
          return Date.now() + SLAVE_RECHECK_MS;
        }
        if (this.wasSlave) {
          // A new master continues from the progress the old one wrote (synced to this node).
          this.wasSlave = false;
          this.reloaded = this.offsets.load().catch((err: unknown) => {
            this.wasSlave = true;
            throw err;
          });
        }
        // Every level waits for that reload, not only the one that started it: a level running
        // meanwhile would deliver again what the old master already delivered.
        await this.reloaded;
        const next = await this.deliverBatch(state);
        if (next === 'idle') return undefined;
        if (next !== 'more') return next;
      }
      return undefined;
    } catch (err) {
      this.logger.error({ err, level: state.level }, 'delay delivery failed, retrying later');
      return Date.now() + RETRY_AFTER_FAILURE_MS;
    }
  }

  /**
   * Reads up to BATCH entries from the level's offset and delivers the due ones. Returns
   * 'more' to go on, 'idle' when the queue is drained (an arrival wakes the level), or the time
   * to look again (the head's due time, or a retry after a refused put).
   */
  private async deliverBatch(state: LevelState): Promise<'more' | 'idle' | number> {
    const { level, delayMs } = state;
    const offset = this.offsets.get(level);
    const result = await this.store.getMessage({
      topic: SCHEDULE_TOPIC,
      queueId: level - 1,
      offset,
      maxMsgNums: BATCH,
    });
    if (result.messages.length === 0) {
      if (
        result.status === GetMessageStatus.OFFSET_TOO_SMALL ||
        result.status === GetMessageStatus.OFFSET_OVERFLOW_BADLY ||
        (result.status === GetMessageStatus.OFFSET_FOUND_NULL && result.nextBeginOffset > offset)
      ) {
        this.logger.warn(
          { level, offset, corrected: result.nextBeginOffset, status: result.status },
          'delay offset outside the queue, corrected',
        );
        this.offsets.set(level, result.nextBeginOffset);
        return result.nextBeginOffset === offset ? 'idle' : 'more';
      }
      return 'idle';
    }
    const now = Date.now();
    const due: MessageRecord[] = [];
    let notDueAt: number | undefined;
    for (const buf of result.messages) {
      const record = decodeRecord(buf, 0, true);
      let dueAt = record.storeTimestamp + delayMs;
      // A due time further away than the level's delay means the clock went back: deliver now.
      if (dueAt > now + delayMs) dueAt = now;
      if (dueAt > now) {
        notDueAt = dueAt;
        break;
      }
      due.push(record);
    }
    // Puts are issued together so they share one group commit; the offset moves past the
    // longest acknowledged prefix (a failed put is retried with everything after it).
    const outcomes = await Promise.all(due.map((record) => this.deliver(record)));
    let delivered = 0;
    while (delivered < outcomes.length && outcomes[delivered]) delivered++;
    if (delivered > 0) this.offsets.set(level, due[delivered - 1].queueOffset + 1);
    if (delivered < outcomes.length) return Date.now() + RETRY_AFTER_FAILURE_MS;
    return notDueAt ?? 'more';
  }

  /** Re-stores one parked message in its real topic; false if the store refused it for now. */
  private async deliver(record: MessageRecord): Promise<boolean> {
    const target = realTarget(record);
    if (!target) {
      this.logger.error(
        {
          offset: record.physicalOffset,
          topic: record.properties.get(MessageConst.REAL_TOPIC),
          queueId: record.properties.get(MessageConst.REAL_QID),
        },
        'delay message without a valid REAL_TOPIC/REAL_QID, skipped',
      );
      return true;
    }
    const { topic } = target;
    if (topic === TRANS_HALF_TOPIC) return true;
    record.properties.delete(MessageConst.DELAY);
    const msg: MessageToStore = { ...toMessageToStore(record), ...target };
    const result = await this.store.putMessage(msg);
    if (isStored(result.status)) return true;
    if (
      result.status === PutMessageStatus.MESSAGE_ILLEGAL ||
      result.status === PutMessageStatus.PROPERTIES_SIZE_EXCEEDED
    ) {
      // It can never be stored (e.g. maxMessageSize was lowered): retrying would block the level.
      this.logger.error(
        { offset: record.physicalOffset, topic, status: result.status, remark: result.remark },
        'delay message cannot be delivered, skipped',
      );
      return true;
    }
    this.logger.warn(
      { offset: record.physicalOffset, topic, status: result.status, remark: result.remark },
      'delay message not delivered, will retry',
    );
    return false;
  }
}
