/**
 * One ConsumeQueue: the per (topic, queueId) index into the CommitLog (broker-internals.md §1.4).
 * Entry i (the message with queue offset i) is 20 bytes at byte i×20 of the queue's files:
 * `int64 commitLogOffset | int32 size | int64 tagsCode`, 300 000 entries per file by default.
 *
 * Only the dispatcher appends, at the queue offset recorded in each CommitLog record, so a queue
 * can always be rebuilt from the CommitLog. New entries go to an in-memory tail first and are
 * handed to the kernel by one coalesced write per dispatch round; the tail keeps recent entries,
 * so a consumer that is caught up reads them without touching the file.
 */
import type { Logger } from 'pino';
import { readInt64BE, writeInt64BE } from '../../common/message/int64';
import { SegmentQueue } from './segment-queue';
import type { StoreIO } from './store-io';

export const CQ_UNIT_SIZE = 20;
/** Size field of the filler entries `(0, Integer.MAX_VALUE, 0)` written before a queue's start. */
export const CQ_FILLER_SIZE = 0x7fffffff;

const INITIAL_TAIL_ENTRIES = 64;
const STEADY_TAIL_ENTRIES = 4096;
/** Read at most this much of a queue file per recovery/truncation step. */
const SCAN_CHUNK = 1 << 20;
/**
 * Entries read from a file at once for a consumer behind the tail (16,000 bytes): the next 25 or
 * so pulls of 32 are then served from memory instead of one small file read each.
 */
const READ_AHEAD_ENTRIES = 800;
const FILLER_CHUNK = Buffer.alloc(3276 * CQ_UNIT_SIZE);
for (let p = 0; p < FILLER_CHUNK.length; p += CQ_UNIT_SIZE) {
  FILLER_CHUNK.writeInt32BE(CQ_FILLER_SIZE, p + 8);
}

/** Entries read from a queue: `count` entries at `buf[pos…]`. Consume before the next await. */
export interface CqEntries {
  buf: Buffer;
  pos: number;
  count: number;
}

export class ConsumeQueue {
  /** First valid entry (byte offset, as RocketMQ keeps it). */
  private minLogicOffset = 0;
  /** Number of entries = the next queue offset = max offset. */
  private maxIndex = 0;
  /** Entries below this are handed to the kernel. */
  private fileWrittenIndex = 0;
  /** End (offset + size) of the last real entry; an entry ending at or before it is a repeat. */
  private maxPhysicOffset = -1;
  /** Tail cache: entries [tailStart, maxIndex) at `tail[(i − tailStart) × 20]`. */
  private tail = Buffer.alloc(INITIAL_TAIL_ENTRIES * CQ_UNIT_SIZE);
  private tailStart = 0;
  /** Entries [start, start + count) read ahead from a file; dropped when the end moves back. */
  private readAhead: { start: number; buf: Buffer; count: number } | undefined;
  /** Moves whenever the end moves back, so a read begun before keeps nothing it read. */
  private endGeneration = 0;
  private writing: Promise<void> | undefined;
  /** Set by the store while this queue is on its list of queues with entries to write. */
  listed = false;

  readonly files: SegmentQueue;

  constructor(
    io: StoreIO,
    readonly topic: string,
    readonly queueId: number,
    dir: string,
    fileSize: number,
    private readonly logger: Logger,
  ) {
    this.files = new SegmentQueue(io, dir, fileSize, logger);
  }

  get fileSize(): number {
    return this.files.fileSize;
  }

  /** Next queue offset to be written. */
  maxOffset(): number {
    return this.maxIndex;
  }

  /** First readable queue offset. */
  minOffset(): number {
    return Math.floor(this.minLogicOffset / CQ_UNIT_SIZE);
  }

  /** End of the CommitLog bytes the last entry covers (−1 when empty). */
  lastPhysicalEnd(): number {
    return this.maxPhysicOffset;
  }

  /**
   * Appends the entry for the message with `queueOffset` (§1.4 idempotence rules): one already
   * built (its CommitLog range ends at or before the last entry's) or at an offset below the end
   * is ignored. A brand-new queue starting past 0 gets filler entries from the start of its
   * first file (pre-blank) and its min offset there. Returns true if appended.
   */
  putEntry(queueOffset: number, phyOffset: number, size: number, tagsCode: number): boolean {
    if (phyOffset + size <= this.maxPhysicOffset) return false;
    if (queueOffset < this.maxIndex) return false;
    if (queueOffset > this.maxIndex) {
      if (this.maxIndex === 0 && this.files.isEmpty && this.fileWrittenIndex === 0) {
        this.preBlank(queueOffset);
      } else {
        // The queue lost entries it should have (§1.4 logs "[BUG]logic queue order maybe
        // wrong"). Filling the gap keeps every later entry at its own offset.
        this.logger.error(
          { topic: this.topic, queueId: this.queueId, expected: this.maxIndex, queueOffset },
          '[BUG] consume queue order maybe wrong: filling the gap with filler entries',
        );
        while (this.maxIndex < queueOffset) this.appendRaw(0, CQ_FILLER_SIZE, 0);
      }
    }
    this.appendRaw(phyOffset, size, tagsCode);
    this.maxPhysicOffset = phyOffset + size;
    return true;
  }

  /**
   * A new queue whose first entry is `queueOffset` > 0: its first file starts at the file
   * boundary below, filled with fillers up to the entry (written from a shared zero-cost buffer
   * by {@link writeToFile}, never held in memory).
   */
  private preBlank(queueOffset: number): void {
    const byteOffset = queueOffset * CQ_UNIT_SIZE;
    const fileStart = byteOffset - (byteOffset % this.fileSize);
    this.fileWrittenIndex = fileStart / CQ_UNIT_SIZE;
    this.tailStart = queueOffset;
    this.maxIndex = queueOffset;
    this.minLogicOffset = byteOffset;
  }

  private appendRaw(phyOffset: number, size: number, tagsCode: number): void {
    let pos = (this.maxIndex - this.tailStart) * CQ_UNIT_SIZE;
    if (pos + CQ_UNIT_SIZE > this.tail.length) pos = this.makeRoom();
    const t = this.tail;
    writeInt64BE(t, pos, phyOffset);
    t.writeInt32BE(size, pos + 8);
    writeInt64BE(t, pos + 12, tagsCode);
    this.maxIndex++;
  }

  /** Frees tail space by dropping entries already in the file, or grows it; returns the write position. */
  private makeRoom(): number {
    const count = this.maxIndex - this.tailStart;
    const capacity = this.tail.length / CQ_UNIT_SIZE;
    const keep = capacity >> 1;
    const drop = Math.min(this.fileWrittenIndex - this.tailStart, count - keep);
    if (drop > 0 && capacity >= STEADY_TAIL_ENTRIES) {
      this.tail.copyWithin(0, drop * CQ_UNIT_SIZE, count * CQ_UNIT_SIZE);
      this.tailStart += drop;
    } else {
      const grown = Buffer.alloc(this.tail.length * 2);
      this.tail.copy(grown, 0, 0, count * CQ_UNIT_SIZE);
      this.tail = grown;
    }
    return (this.maxIndex - this.tailStart) * CQ_UNIT_SIZE;
  }

  /**
   * Hands the pending entries to the kernel (one write per file touched). Concurrent calls share
   * the write in flight and then write what arrived meanwhile. Errors are logged and thrown; the
   * entries stay pending and the next call retries them.
   */
  writeToFile(): Promise<void> {
    if (this.writing) return this.writing.then(() => this.writeToFile());
    if (this.fileWrittenIndex >= this.maxIndex) return Promise.resolve();
    this.writing = this.writePending().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async writePending(): Promise<void> {
    await this.files.ensureDir();
    while (this.fileWrittenIndex < this.maxIndex) {
      const byteOffset = this.fileWrittenIndex * CQ_UNIT_SIZE;
      const fileStart = byteOffset - (byteOffset % this.fileSize);
      const seg = this.files.getOrCreate(fileStart);
      const filePos = byteOffset - fileStart;
      let buf: Buffer;
      let from: number;
      let entries: number;
      const fileRoom = (this.fileSize - filePos) / CQ_UNIT_SIZE;
      if (this.fileWrittenIndex < this.tailStart) {
        buf = FILLER_CHUNK;
        from = 0;
        entries = Math.min(
          this.tailStart - this.fileWrittenIndex,
          FILLER_CHUNK.length / CQ_UNIT_SIZE,
          fileRoom,
        );
      } else {
        // Copy: the tail may be compacted while the write is in flight.
        entries = Math.min(this.maxIndex - this.fileWrittenIndex, fileRoom);
        from = (this.fileWrittenIndex - this.tailStart) * CQ_UNIT_SIZE;
        buf = Buffer.from(this.tail.subarray(from, from + entries * CQ_UNIT_SIZE));
        from = 0;
      }
      const length = entries * CQ_UNIT_SIZE;
      let done = 0;
      while (done < length)
        done += await seg.write(buf, from + done, length - done, filePos + done);
      seg.wrotePosition = filePos + length;
      this.fileWrittenIndex += entries;
    }
  }

  /** Number of entries appended but not yet handed to the kernel. */
  pendingWrites(): number {
    return this.maxIndex - this.fileWrittenIndex;
  }

  /** fdatasync the written entries; returns whether anything was synced. */
  async flush(leastPages: number): Promise<boolean> {
    let synced = false;
    for (const seg of this.files.files) {
      const dirtyBytes = seg.wrotePosition - seg.flushedPosition;
      if (dirtyBytes <= 0) continue;
      const pages = Math.floor(seg.wrotePosition / 4096) - Math.floor(seg.flushedPosition / 4096);
      if (leastPages > 0 && pages < leastPages && !seg.isFull) continue;
      await seg.flush();
      synced = true;
    }
    return synced;
  }

  /**
   * Up to `maxCount` entries from queue offset `index` (the caller checked min ≤ index < max).
   * The tail is served from memory; older entries are read from the file holding `index` (never
   * across a file end). Returns undefined if the file is gone (deleted by retention).
   */
  async getEntries(index: number, maxCount: number): Promise<CqEntries | undefined> {
    if (index >= this.tailStart) {
      this.readAhead = undefined; // the reader caught up with the tail
      return {
        buf: this.tail,
        pos: (index - this.tailStart) * CQ_UNIT_SIZE,
        count: Math.min(maxCount, this.maxIndex - index),
      };
    }
    const ahead = this.readAhead;
    if (ahead !== undefined && index >= ahead.start && index < ahead.start + ahead.count) {
      return {
        buf: ahead.buf,
        pos: (index - ahead.start) * CQ_UNIT_SIZE,
        count: Math.min(maxCount, ahead.start + ahead.count - index),
      };
    }
    const byteOffset = index * CQ_UNIT_SIZE;
    const seg = this.files.find(byteOffset);
    if (seg === undefined || !seg.hold()) return undefined;
    try {
      const filePos = byteOffset - seg.fileFromOffset;
      const count = Math.min(
        Math.max(maxCount, READ_AHEAD_ENTRIES),
        this.fileWrittenIndex - index,
        (seg.fileSize - filePos) / CQ_UNIT_SIZE,
      );
      const buf = Buffer.allocUnsafe(count * CQ_UNIT_SIZE);
      const generation = this.endGeneration;
      const got = Math.floor((await seg.read(buf, 0, buf.length, filePos)) / CQ_UNIT_SIZE);
      if (generation === this.endGeneration) this.readAhead = { start: index, buf, count: got };
      return { buf, pos: 0, count: Math.min(maxCount, got) };
    } catch (err) {
      this.logger.warn({ err, topic: this.topic, queueId: this.queueId, index }, 'cq read failed');
      return undefined;
    } finally {
      seg.release();
    }
  }

  /** The entry at `index` as `[phyOffset, size, tagsCode]`, or undefined. */
  async getEntry(index: number): Promise<[number, number, number] | undefined> {
    if (index < 0 || index >= this.maxIndex) return undefined;
    const e = await this.getEntries(index, 1);
    if (e === undefined || e.count < 1) return undefined;
    return [
      readInt64BE(e.buf, e.pos),
      e.buf.readInt32BE(e.pos + 8),
      readInt64BE(e.buf, e.pos + 12),
    ];
  }

  /** Start of the queue file after the one holding `index`, as a queue offset. */
  rollNextFile(index: number): number {
    const perFile = this.fileSize / CQ_UNIT_SIZE;
    return index + perFile - (index % perFile);
  }

  /**
   * Recovery (§3.2): from the third-last file on, the first entry with `offset < 0 || size ≤ 0`
   * ends the queue; everything after it is dropped.
   */
  async recover(): Promise<void> {
    await this.files.load();
    const files = this.files.files;
    if (files.length === 0) {
      this.resetEnd(0);
      return;
    }
    const startFile = Math.max(0, files.length - 3);
    let end = files[startFile].fileFromOffset;
    let lastReal = -1;
    let scanning = true;
    for (let i = startFile; i < files.length && scanning; i++) {
      const seg = files[i];
      let filePos = 0;
      while (filePos < seg.fileSize) {
        const chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, seg.fileSize - filePos));
        const n = await seg.read(chunk, 0, chunk.length, filePos);
        let p = 0;
        for (; p + CQ_UNIT_SIZE <= n; p += CQ_UNIT_SIZE) {
          const offset = readInt64BE(chunk, p);
          const size = chunk.readInt32BE(p + 8);
          if (offset < 0 || size <= 0) break;
          if (size !== CQ_FILLER_SIZE) lastReal = offset + size;
        }
        filePos += p;
        if (p < chunk.length) break;
      }
      end = seg.fileFromOffset + filePos;
      if (filePos < seg.fileSize) scanning = false;
    }
    this.maxPhysicOffset = lastReal;
    await this.files.truncateFrom(end);
    this.files.setWrittenEnd(end);
    this.minLogicOffset = this.files.minOffset();
    this.resetEnd(end / CQ_UNIT_SIZE);
  }

  /** Sets the end of the queue to `index` entries with an empty tail (nothing pending). */
  private resetEnd(index: number): void {
    this.readAhead = undefined;
    this.endGeneration++;
    this.maxIndex = index;
    this.fileWrittenIndex = index;
    this.tailStart = index;
    if (this.minLogicOffset > index * CQ_UNIT_SIZE) this.minLogicOffset = index * CQ_UNIT_SIZE;
  }

  /**
   * Drops every entry pointing at or past CommitLog offset `phyOffset` (§3.4), after a CommitLog
   * truncation. Files whose first entry is already past it are deleted.
   */
  async truncateDirty(phyOffset: number): Promise<void> {
    if (this.maxPhysicOffset <= phyOffset && this.fileWrittenIndex >= this.maxIndex) return;
    if (this.writing) await this.writing.catch(() => undefined);
    await this.writeToFile().catch(() => undefined);
    // Entries are in CommitLog order: binary search the first one that goes.
    let lo = Math.max(this.minOffset(), this.files.minOffset() / CQ_UNIT_SIZE);
    let hi = this.maxIndex;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = await this.getEntry(mid);
      if (e === undefined || (e[1] !== CQ_FILLER_SIZE && e[0] >= phyOffset)) hi = mid;
      else lo = mid + 1;
    }
    const end = lo;
    let lastReal = -1;
    const e = await this.getEntry(end - 1);
    if (e && e[1] !== CQ_FILLER_SIZE) lastReal = e[0] + e[1];
    const byteEnd = end * CQ_UNIT_SIZE;
    await this.files.truncateFrom(byteEnd);
    this.files.setWrittenEnd(byteEnd);
    this.maxPhysicOffset = lastReal;
    this.resetEnd(end);
    this.logger.info({ topic: this.topic, queueId: this.queueId, end }, 'consume queue truncated');
  }

  /**
   * After CommitLog files were deleted: the min offset moves to the first entry pointing at or
   * past `phyMinOffset` (binary search; entries are in CommitLog order).
   */
  async correctMinOffset(phyMinOffset: number): Promise<void> {
    let lo = Math.max(this.minOffset(), this.files.minOffset() / CQ_UNIT_SIZE);
    let hi = this.maxIndex;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = await this.getEntry(mid);
      if (e === undefined) {
        lo = mid + 1;
        continue;
      }
      if (e[1] === CQ_FILLER_SIZE || e[0] < phyMinOffset) lo = mid + 1;
      else hi = mid;
    }
    if (lo * CQ_UNIT_SIZE > this.minLogicOffset) {
      this.minLogicOffset = lo * CQ_UNIT_SIZE;
    }
  }

  /**
   * Deletes files whose last entry points below `phyMinOffset`, never the last file; returns the
   * number deleted.
   */
  async deleteExpiredFiles(phyMinOffset: number, pauseMs: number): Promise<number> {
    let deleted = 0;
    while (this.files.files.length > 1) {
      const first = this.files.files[0];
      const lastIndex = (first.fileFromOffset + first.fileSize) / CQ_UNIT_SIZE - 1;
      const e = await this.getEntry(lastIndex);
      if (e === undefined || e[1] === CQ_FILLER_SIZE || e[0] >= phyMinOffset) break;
      await this.files.deleteFirst();
      deleted++;
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
    const floor = this.files.minOffset();
    if (this.minLogicOffset < floor) this.minLogicOffset = floor;
    return deleted;
  }

  /**
   * Queue offset of the first message stored at or after `timestamp` (binary search; each probe
   * reads the store time from the CommitLog). Before everything → min offset; after everything
   * → max offset.
   */
  async offsetByTime(
    timestamp: number,
    storeTimeAt: (phyOffset: number, size: number) => Promise<number>,
  ): Promise<number> {
    let lo = this.minOffset();
    let hi = this.maxIndex;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = await this.getEntry(mid);
      if (e === undefined || e[1] === CQ_FILLER_SIZE) {
        lo = mid + 1;
        continue;
      }
      const t = await storeTimeAt(e[0], e[1]);
      if (t < 0 || t < timestamp) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Waits for the pending write, syncs, closes the files. */
  async close(): Promise<void> {
    await this.writeToFile().catch((err: unknown) =>
      this.logger.error({ err, topic: this.topic, queueId: this.queueId }, 'cq final write failed'),
    );
    await this.files.flush().catch(() => undefined);
    await this.files.close();
  }

  /** Deletes the queue's files. */
  async destroy(): Promise<void> {
    if (this.writing) await this.writing.catch(() => undefined);
    this.resetEnd(0);
    this.maxPhysicOffset = -1;
    this.minLogicOffset = 0;
    await this.files.destroyAll();
  }
}
