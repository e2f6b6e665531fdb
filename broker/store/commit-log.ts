/**
 * The CommitLog (broker-internals.md §1.2, §1.3, §2.2): one append-only run of fixed-size segment
 * files holding every message record back to back, in the wire record format.
 *
 * Appends are synchronous on the event loop: a record is encoded straight into the current
 * in-memory write chunk at its final CommitLog offset, so many appends made in one turn of the
 * loop become one contiguous byte range. A single writer hands each range to the kernel with one
 * positional write (libuv's thread pool does the syscall), and a flusher fdatasyncs what was
 * written: every append that arrived meanwhile shares that write and that sync (group commit).
 * Written chunks stay in memory for a while as a tail cache, so the dispatcher and caught-up
 * readers get the newest records without a syscall. A chunk leaving the cache is reused for new
 * appends once the dispatcher is past it: fresh memory costs a page fault per 4 KiB touched and
 * churn for the garbage collector, about a tenth of the append rate. So every read that hands
 * bytes outside this class copies what it takes from the cache; only the dispatcher, which is
 * done with a slice before it moves past it, reads views ({@link dispatchSlice}).
 *
 * Offsets: `endOffset` (next record goes here, includes bytes not yet written) ≥ `writtenOffset`
 * (in the kernel: readable, survives a process crash) ≥ `flushedOffset` (durable).
 */
import type { Logger } from 'pino';
import {
  BLANK_LENGTH,
  BLANK_MAGIC,
  MAGIC_V1,
  MAGIC_V2,
  checkRecord,
  readPhysicalOffset,
  readStoreTimestamp,
} from '../../common/message/record';
import type { StoreCheckpoint } from './checkpoint';
import { takeReached } from './ordered-waiters';
import type { SegmentFile } from './segment-file';
import { ReadAheadCache } from './read-ahead-cache';
import { SegmentQueue } from './segment-queue';
import { isNoSpaceError, type StoreIO } from './store-io';

/** Capacity of a write chunk (a larger record gets a chunk of its own size). */
const CHUNK_SIZE = 4 * 1024 * 1024;
/**
 * Written chunks kept in memory for readers of the newest data. Readers and the dispatcher stay
 * within a few chunks of the end; older data comes from the page cache. This budget is the
 * largest part of the broker's resident memory (issue 9: below 200 MiB), so it is kept small.
 */
const TAIL_CACHE_BYTES = 32 * 1024 * 1024;
/** Chunk buffers kept for reuse after they leave the tail cache. */
const SPARE_CHUNKS = 2;
/** Block size of the read-ahead cache (smaller files: the file size, if it divides it). */
const READ_AHEAD_BLOCK = 1024 * 1024;
/** Blocks the read-ahead cache keeps: a few pulls' worth of drift between a group's consumers. */
const READ_AHEAD_BLOCKS = 16;
/** Bytes read from a file per step by recovery and the dispatcher. */
export const SCAN_READ_SIZE = 4 * 1024 * 1024;
const OS_PAGE_SIZE = 4096;

/** A contiguous range of the CommitLog being (or recently) written: `[base, base + filled)`. */
interface WriteChunk {
  base: number;
  buf: Buffer;
  filled: number;
  /** Bytes of `buf` handed to the kernel. */
  written: number;
  /** The chunk ends its file with a blank filler: when written, the file is full. */
  endsFile: boolean;
  /** Store time of the newest record in the chunk. */
  lastTimestamp: number;
}

/** One append waiting for its bytes to reach the kernel. */
export interface PendingAppend {
  /** CommitLog offset just past the append's last record. */
  end: number;
  /** Called once: without an error when written, with the write error when not stored. */
  complete(err: Error | undefined): void;
}

interface FlushWaiter {
  end: number;
  deadline: number;
  resolve(durable: boolean): void;
}

/** Where an append's bytes go: encode `size` bytes at `buf[pos]`; the record starts at `offset`. */
export interface AppendSlot {
  buf: Buffer;
  pos: number;
  offset: number;
}

export interface CommitLogOptions {
  io: StoreIO;
  dir: string;
  fileSize: number;
  syncFlush: boolean;
  syncFlushTimeout: number;
  checkpoint: StoreCheckpoint;
  logger: Logger;
  /** Called after bytes reached the kernel (sync flush: after they became durable). */
  onReadable(): void;
  /** Called after each successful fdatasync round with how long it took (metrics). */
  onFlushed?(seconds: number): void;
  /** Offset below which the dispatcher holds no view of the cache (see {@link CommitLog.dispatchSlice}). */
  dispatchedOffset(): number;
}

export class CommitLog {
  readonly files: SegmentQueue;
  private chunks: WriteChunk[] = [];
  /** CHUNK_SIZE buffers out of the cache that nothing reads any more, for the next chunks. */
  private spareChunks: Buffer[] = [];
  /** Index in `chunks` of the first chunk with bytes not yet written. */
  private writeIndex = 0;
  private cachedBytes = 0;
  private endOffset = 0;
  private writtenOffset = 0;
  private flushedOffset = 0;
  /** Store time of the last record written; the flusher copies it to the checkpoint. */
  private lastWrittenTimestamp = 0;
  private pending: PendingAppend[] = [];
  private waiters: FlushWaiter[] = [];
  private waiterTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private writeActive = false;
  /** The single write in flight (settles, never rejects). */
  private currentWrite: Promise<void> = Promise.resolve();
  private flushing: Promise<void> = Promise.resolve();
  private flushActive = false;
  private writeKickQueued = false;
  /** Start time of the write in flight (0 when idle), for OS_PAGE_CACHE_BUSY. */
  private writeStartedAt = 0;
  /** A failed write may have left bytes past `writtenOffset` in the file; cut them before writing on. */
  private dirtyTail = false;
  private readonly fileSize: number;
  private readonly logger: Logger;
  private readonly readAhead: ReadAheadCache | undefined;

  constructor(private readonly opts: CommitLogOptions) {
    this.fileSize = opts.fileSize;
    this.logger = opts.logger;
    this.files = new SegmentQueue(opts.io, opts.dir, opts.fileSize, opts.logger, true);
    const block = Math.min(READ_AHEAD_BLOCK, opts.fileSize);
    // Blocks must never cross a file end.
    if (opts.fileSize % block === 0) this.readAhead = new ReadAheadCache(block, READ_AHEAD_BLOCKS);
  }

  /** Next append offset (includes bytes not yet written). */
  maxOffset(): number {
    return this.endOffset;
  }

  /** End of the bytes in the kernel: what readers and the dispatcher may see. */
  readableOffset(): number {
    return this.writtenOffset;
  }

  durableOffset(): number {
    return this.flushedOffset;
  }

  minOffset(): number {
    return this.files.isEmpty ? this.endOffset : this.files.minOffset();
  }

  /** Milliseconds the write in flight has been pending (0 when none). */
  writeBusyMillis(now: number): number {
    return this.writeStartedAt === 0 ? 0 : now - this.writeStartedAt;
  }

  /** Bytes appended but not yet durable. */
  unflushedBytes(): number {
    return this.endOffset - this.flushedOffset;
  }

  /** Start of the file after the one holding `offset`. */
  rollNextFile(offset: number): number {
    return offset + this.fileSize - (offset % this.fileSize);
  }

  // ---------------------------------------------------------------- append

  /**
   * Reserves room for `size` bytes of records that must not span files (a record, or a whole
   * batch). If they do not fit before the end of the current file with 8 bytes to spare, the
   * file is closed with a blank filler (§1.3) and the slot starts the next file. Nothing is
   * committed until {@link commitAppend}; encoding into the slot may still fail.
   */
  slotFor(size: number): AppendSlot {
    const fileRemain = this.fileSize - (this.endOffset % this.fileSize);
    if (size + BLANK_LENGTH > fileRemain) {
      const chunk = this.chunkWithRoom(BLANK_LENGTH);
      const pos = chunk.filled;
      chunk.buf.writeInt32BE(fileRemain, pos);
      chunk.buf.writeInt32BE(BLANK_MAGIC, pos + 4);
      chunk.filled += BLANK_LENGTH;
      chunk.endsFile = true;
      this.endOffset += fileRemain;
    }
    const chunk = this.chunkWithRoom(size);
    return { buf: chunk.buf, pos: chunk.filled, offset: this.endOffset };
  }

  /**
   * Commits `size` bytes encoded into the last slot; `pending.complete` is called when they are
   * in the kernel or failed to get there.
   */
  commitAppend(size: number, storeTimestamp: number, pending: PendingAppend): void {
    const chunk = this.chunks[this.chunks.length - 1];
    chunk.filled += size;
    chunk.lastTimestamp = storeTimestamp;
    this.endOffset += size;
    this.pending.push(pending);
    if (!this.writeKickQueued && !this.writeActive) {
      // Start writing after the current turn of the loop, so appends arriving together share a write.
      this.writeKickQueued = true;
      queueMicrotask(() => {
        this.writeKickQueued = false;
        this.kickWriter();
      });
    }
  }

  /**
   * Appends bytes replicated from a master (§5.2) at the current end: raw CommitLog bytes that
   * may start or end mid-record but never cross a file end. `pending.complete` is called once
   * they are in the kernel.
   */
  appendReplicated(data: Buffer, pending: PendingAppend): void {
    const fileRemain = this.fileSize - (this.endOffset % this.fileSize);
    if (data.length > fileRemain) {
      throw new Error(
        `replicated bytes at ${this.endOffset} (${data.length}) cross the file end (${fileRemain} left)`,
      );
    }
    const chunk = this.chunkWithRoom(data.length);
    data.copy(chunk.buf, chunk.filled);
    this.commitAppend(data.length, 0, pending);
    if (data.length === fileRemain) chunk.endsFile = true;
  }

  /** The current chunk if it has `room` bytes left in it and its file, else a new one. */
  private chunkWithRoom(room: number): WriteChunk {
    const last = this.chunks[this.chunks.length - 1];
    if (
      last !== undefined &&
      !last.endsFile &&
      last.base + last.filled === this.endOffset &&
      last.filled + room <= last.buf.length
    ) {
      return last;
    }
    const toFileEnd = this.fileSize - (this.endOffset % this.fileSize);
    const capacity = Math.min(toFileEnd, Math.max(CHUNK_SIZE, room));
    const chunk: WriteChunk = {
      base: this.endOffset,
      buf:
        capacity === CHUNK_SIZE && this.spareChunks.length > 0
          ? (this.spareChunks.pop() as Buffer)
          : Buffer.allocUnsafeSlow(capacity),
      filled: 0,
      written: 0,
      endsFile: false,
      lastTimestamp: 0,
    };
    this.chunks.push(chunk);
    this.cachedBytes += capacity;
    return chunk;
  }

  private kickWriter(): void {
    if (this.writeActive) return;
    const chunk = this.chunks[this.writeIndex];
    if (
      chunk === undefined ||
      (chunk.written >= chunk.filled && this.writeIndex === this.chunks.length - 1)
    ) {
      return;
    }
    this.writeActive = true;
    this.writing = this.writeLoop();
  }

  /**
   * Writes until nothing is pending. `writeActive` is cleared in the same synchronous step that
   * finds nothing left, so an append made right after is never left unwritten.
   */
  private async writeLoop(): Promise<void> {
    try {
      for (;;) {
        const chunk = this.chunks[this.writeIndex];
        if (chunk === undefined) return;
        if (chunk.written >= chunk.filled) {
          if (this.writeIndex < this.chunks.length - 1) {
            this.writeIndex++;
            continue;
          }
          return;
        }
        const from = chunk.written;
        const to = chunk.filled;
        const start = chunk.base + from;
        const fileFrom = start - (start % this.fileSize);
        const filePos = start - fileFrom;
        const timestamp = chunk.lastTimestamp;
        this.writeStartedAt = Date.now();
        let seg: SegmentFile;
        try {
          seg = this.files.getOrCreate(fileFrom);
          const op = this.writeRange(seg, chunk.buf, from, to - from, filePos);
          this.currentWrite = op.catch(() => undefined);
          await op;
        } catch (err) {
          this.failPending(err as Error, chunk);
          return;
        }
        chunk.written = to;
        const fileEnds = chunk.endsFile && to === chunk.filled;
        seg.wrotePosition = fileEnds ? this.fileSize : filePos + (to - from);
        this.writtenOffset = fileEnds ? fileFrom + this.fileSize : chunk.base + to;
        if (timestamp > 0) this.lastWrittenTimestamp = timestamp;
        this.completeWritten();
        this.trimCache();
        if (this.opts.syncFlush) this.kickFlusher();
        else this.opts.onReadable();
      }
    } finally {
      this.writeActive = false;
      this.writeStartedAt = 0;
    }
  }

  private async writeRange(
    seg: SegmentFile,
    buf: Buffer,
    from: number,
    length: number,
    filePos: number,
  ): Promise<void> {
    if (this.dirtyTail) {
      await seg.truncateFrom(filePos);
      this.dirtyTail = false;
    }
    let done = 0;
    while (done < length) done += await seg.write(buf, from + done, length - done, filePos + done);
  }

  /** Completes the appends whose bytes are all in the kernel now. */
  private completeWritten(): void {
    for (const p of takeReached(this.pending, this.writtenOffset)) p.complete(undefined);
  }

  /**
   * A write failed: nothing from `chunk.written` on is stored. Every pending append fails (their
   * `complete` callbacks roll back queue offsets), the in-memory end returns to the written end,
   * and the file tail is cut before the next write, so a partial write never becomes visible.
   */
  private failPending(err: Error, chunk: WriteChunk): void {
    const noSpace = isNoSpaceError(err);
    this.logger.error(
      { err, offset: chunk.base + chunk.written, appends: this.pending.length, noSpace },
      noSpace
        ? 'CommitLog write failed: no space left on device; appends refused until space is freed'
        : 'CommitLog write failed; pending appends are not stored',
    );
    chunk.filled = chunk.written;
    chunk.endsFile = false;
    const dropped = this.chunks.splice(this.chunks.indexOf(chunk) + 1);
    for (const c of dropped) this.cachedBytes -= c.buf.length;
    this.endOffset = chunk.base + chunk.written;
    this.dirtyTail = true;
    const failed = this.pending;
    this.pending = [];
    // Newest first, so each queue ends up rolled back to its oldest failed offset.
    for (let i = failed.length - 1; i >= 0; i--) failed[i].complete(err);
  }

  /**
   * Drops the oldest written chunks beyond the tail cache budget, keeping their buffers for reuse
   * when the dispatcher is past them (else it may still be reading them: they are left to the GC).
   */
  private trimCache(): void {
    while (this.cachedBytes > TAIL_CACHE_BYTES && this.writeIndex > 0) {
      const first = this.chunks.shift();
      if (first === undefined) break;
      this.cachedBytes -= first.buf.length;
      this.writeIndex--;
      if (
        first.buf.length === CHUNK_SIZE &&
        this.spareChunks.length < SPARE_CHUNKS &&
        first.base + first.filled <= this.opts.dispatchedOffset()
      ) {
        this.spareChunks.push(first.buf);
      }
    }
  }

  /** Resolves once everything appended so far is in the kernel (or its write failed). */
  async drainWrites(): Promise<void> {
    this.kickWriter();
    while (this.writeActive) {
      await this.writing;
      this.kickWriter();
    }
  }

  // ---------------------------------------------------------------- flush

  /**
   * SYNC_FLUSH: resolves true once the CommitLog is durable up to `end`, false after
   * `syncFlushTimeout` (FLUSH_DISK_TIMEOUT; the bytes stay stored and are synced later).
   */
  waitDurable(end: number): Promise<boolean> {
    if (this.flushedOffset >= end) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiters.push({ end, deadline: Date.now() + this.opts.syncFlushTimeout, resolve });
      if (this.waiterTimer === undefined) this.armWaiterTimer();
    });
  }

  private armWaiterTimer(): void {
    const head = this.waiters[0];
    if (head === undefined) return;
    this.waiterTimer = setTimeout(
      () => {
        this.waiterTimer = undefined;
        const now = Date.now();
        let n = 0;
        while (n < this.waiters.length && this.waiters[n].deadline <= now) n++;
        const expired = this.waiters.splice(0, n);
        if (expired.length > 0) {
          this.logger.warn(
            { waiters: expired.length, flushed: this.flushedOffset },
            'sync flush did not finish within syncFlushTimeout',
          );
        }
        for (const w of expired) w.resolve(false);
        this.armWaiterTimer();
      },
      Math.max(1, head.deadline - Date.now()),
    );
  }

  private kickFlusher(): void {
    if (this.flushActive) return;
    this.flushActive = true;
    this.flushing = this.flushLoop();
  }

  /** SYNC_FLUSH group commit: fdatasync until everything written is durable. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.flushedOffset < this.writtenOffset) {
        // Group commit across rounds: let the appenders the last sync released append again and
        // their write land, so that one sync covers them together with what is already written.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.writeActive) await this.currentWrite;
        const ok = await this.flushWritten();
        if (!ok) return;
        this.opts.onReadable();
      }
    } finally {
      this.flushActive = false;
    }
  }

  /**
   * fdatasyncs every file holding bytes written but not durable; returns false (logged) on an
   * I/O error, leaving the flushed offset where it was.
   */
  private async flushWritten(): Promise<boolean> {
    const target = this.writtenOffset;
    const timestamp = this.lastWrittenTimestamp;
    const started = performance.now();
    try {
      await this.files.flush();
    } catch (err) {
      this.logger.error({ err, target }, 'CommitLog fdatasync failed');
      return false;
    }
    this.opts.onFlushed?.((performance.now() - started) / 1000);
    if (target > this.flushedOffset) {
      this.flushedOffset = target;
      if (timestamp > 0) this.opts.checkpoint.physicMsgTimestamp = timestamp;
    }
    this.resolveWaiters();
    return true;
  }

  private resolveWaiters(): void {
    const done = takeReached(this.waiters, this.flushedOffset);
    if (done.length === 0) return;
    for (const x of done) x.resolve(true);
    if (this.waiters.length === 0 && this.waiterTimer !== undefined) {
      clearTimeout(this.waiterTimer);
      this.waiterTimer = undefined;
    }
  }

  /**
   * ASYNC_FLUSH tick: flush if at least `leastPages` 4 KiB pages are dirty (0 = anything dirty).
   */
  async flushIfDirty(leastPages: number): Promise<void> {
    if (this.flushActive || this.writtenOffset <= this.flushedOffset) return;
    const dirtyPages =
      Math.floor(this.writtenOffset / OS_PAGE_SIZE) - Math.floor(this.flushedOffset / OS_PAGE_SIZE);
    if (leastPages > 0 && dirtyPages < leastPages) return;
    this.flushActive = true;
    try {
      this.flushing = this.flushWritten().then(() => undefined);
      await this.flushing;
    } finally {
      this.flushActive = false;
    }
  }

  /** Every append so far written and synced, errors logged (shutdown and the store's `flush`). */
  async flushAll(): Promise<void> {
    await this.drainWrites();
    while (this.flushActive) await this.flushing;
    await this.flushWritten();
  }

  // ---------------------------------------------------------------- read

  /**
   * `size` bytes at `offset` (a record): from the tail cache when there, else from its file.
   * Undefined when not readable (beyond the written end, in a deleted file, or an I/O error).
   */
  async read(offset: number, size: number): Promise<Buffer | undefined> {
    if (size <= 0 || offset < 0 || offset + size > this.writtenOffset) return undefined;
    const cached = this.fromCache(offset, size);
    return cached !== undefined ? Buffer.from(cached) : this.readFile(offset, size);
  }

  /** `size` written bytes at `offset` from their file (the caller checked the range). */
  private async readFile(offset: number, size: number): Promise<Buffer | undefined> {
    const seg = this.files.find(offset);
    if (seg === undefined || offset + size > seg.fileFromOffset + seg.fileSize || !seg.hold()) {
      return undefined;
    }
    try {
      const buf = Buffer.allocUnsafe(size);
      const n = await seg.read(buf, 0, size, offset - seg.fileFromOffset);
      return n === size ? buf : undefined;
    } catch (err) {
      this.logger.warn({ err, offset, size }, 'CommitLog read failed');
      return undefined;
    } finally {
      seg.release();
    }
  }

  /**
   * Where a {@link readForward} from `offset` had better end: the end of its read-ahead block
   * (a range in one block is served without a copy) or, without read-ahead, of its file.
   */
  forwardReadLimit(offset: number): number {
    const block = this.readAhead?.blockSize ?? this.fileSize;
    return offset - (offset % block) + block;
  }

  /**
   * `size` bytes at `offset` for a consumer reading forward (a pull's span of records): like
   * {@link read}, but bytes older than the tail cache come through the read-ahead cache, so the
   * consumers of the other queues find them there. A range over more than two blocks, or in a
   * block not wholly written yet, is read directly.
   */
  async readForward(offset: number, size: number): Promise<Buffer | undefined> {
    const end = offset + size;
    if (size <= 0 || offset < 0 || end > this.writtenOffset) return undefined;
    const cached = this.fromCache(offset, size);
    if (cached !== undefined) return Buffer.from(cached);
    const ra = this.readAhead;
    if (ra === undefined) return this.readFile(offset, size);
    const bs = ra.blockSize;
    const first = offset - (offset % bs);
    const last = end - 1 - ((end - 1) % bs);
    if (last - first > bs || last + bs > this.writtenOffset) return this.readFile(offset, size);
    const load = (start: number) => ra.block(start, () => this.read(start, bs));
    if (first === last) return (await load(first))?.subarray(offset - first, end - first);
    const [a, b] = await Promise.all([load(first), load(last)]);
    if (a === undefined || b === undefined) return undefined;
    return Buffer.concat([a.subarray(offset - first), b.subarray(0, end - last)]);
  }

  /**
   * Up to `maxLength` readable bytes from `offset` to at most `limit`, never across a file end:
   * copied from the tail cache when it holds `offset`, else one file read. Undefined when
   * nothing is readable there.
   */
  async readSlice(offset: number, maxLength: number, limit: number): Promise<Buffer | undefined> {
    const end = this.sliceEnd(offset, maxLength, limit);
    if (end <= offset) return undefined;
    const cached = this.cachedSlice(offset, end);
    return cached !== undefined ? Buffer.from(cached) : this.readFile(offset, end - offset);
  }

  /**
   * {@link readSlice} for the dispatcher alone: a view when from the tail cache, valid until
   * `dispatchedOffset()` moves past `offset` (its buffer may then be reused for new appends).
   */
  async dispatchSlice(
    offset: number,
    maxLength: number,
    limit: number,
  ): Promise<Buffer | undefined> {
    const end = this.sliceEnd(offset, maxLength, limit);
    if (end <= offset) return undefined;
    return this.cachedSlice(offset, end) ?? this.readFile(offset, end - offset);
  }

  private sliceEnd(offset: number, maxLength: number, limit: number): number {
    return Math.min(limit, this.writtenOffset, this.rollNextFile(offset), offset + maxLength);
  }

  /** A view of the cached bytes from `offset` to at most `end`, if a chunk holds `offset`. */
  private cachedSlice(offset: number, end: number): Buffer | undefined {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i];
      if (offset >= c.base && offset < c.base + c.written) {
        return c.buf.subarray(offset - c.base, Math.min(end, c.base + c.written) - c.base);
      }
      if (c.base + c.written <= offset) break;
    }
    return undefined;
  }

  /** A view of all `size` bytes at `offset`, if one cached chunk holds them. */
  private fromCache(offset: number, size: number): Buffer | undefined {
    const view = this.cachedSlice(offset, offset + size);
    return view?.length === size ? view : undefined;
  }

  /** The whole valid record at `offset` (no CRC check), or undefined. */
  async readRecord(offset: number): Promise<Buffer | undefined> {
    const head = await this.read(offset, 4);
    if (head === undefined) return undefined;
    const size = head.readInt32BE(0);
    if (size <= 0 || size > this.fileSize) return undefined;
    const buf = await this.read(offset, size);
    if (buf === undefined || checkRecord(buf, 0, size, false) !== size) return undefined;
    return buf;
  }

  /** Store timestamp of the record at `offset` (−1 if unreadable). */
  async storeTimestampAt(offset: number, size: number): Promise<number> {
    const buf = await this.read(offset, Math.min(size, 96));
    if (buf === undefined || buf.length < 64) return -1;
    const magic = buf.readInt32BE(4);
    if (magic !== MAGIC_V1 && magic !== MAGIC_V2) return -1;
    return readStoreTimestamp(buf, 0);
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Finds the end of the valid records (§3.3) scanning from the file starting at `fromFile`:
   * each record must have a good magic, lengths that add up, its own offset in PHYSICALOFFSET
   * and (with `checkCrc`) a matching body CRC; a blank filler moves to the next file. Returns the
   * offset just past the last valid record.
   */
  async findValidEnd(fromFile: number, checkCrc: boolean): Promise<number> {
    const files = this.files.files;
    let i = files.findIndex((f) => f.fileFromOffset === fromFile);
    if (i < 0) return this.files.minOffset();
    let processOffset = fromFile;
    for (; i < files.length; i++) {
      const seg = files[i];
      let pos = 0;
      let buf = Buffer.alloc(0);
      let bufStart = 0;
      let nextFile = false;
      for (;;) {
        const at = pos - bufStart;
        const need = at + 8 <= buf.length ? Math.max(8, buf.readInt32BE(at)) : 8;
        if (at + need > buf.length) {
          if (pos + need > seg.fileSize || need > seg.fileSize) break;
          buf = Buffer.allocUnsafe(Math.min(seg.fileSize - pos, Math.max(SCAN_READ_SIZE, need)));
          const n = await seg.read(buf, 0, buf.length, pos);
          buf = buf.subarray(0, n);
          bufStart = pos;
          if (n < 8) break;
          continue;
        }
        const size = checkRecord(buf, at, buf.length, checkCrc);
        if (size === 0) {
          nextFile = true;
          break;
        }
        if (size < 0 || readPhysicalOffset(buf, at) !== seg.fileFromOffset + pos) break;
        pos += size;
        processOffset = seg.fileFromOffset + pos;
      }
      if (!nextFile) {
        processOffset = seg.fileFromOffset + pos;
        break;
      }
      if (i + 1 >= files.length) {
        // The last file ends with a blank: the next append writes it again and rolls over.
        processOffset = seg.fileFromOffset + pos;
        break;
      }
      processOffset = files[i + 1].fileFromOffset;
    }
    return processOffset;
  }

  /**
   * Abnormal recovery's start (§3.3): the newest file whose first record was stored at or before
   * `minTimestamp`, else the first file.
   */
  async crashRecoveryStart(minTimestamp: number): Promise<number> {
    const files = this.files.files;
    for (let i = files.length - 1; i >= 0; i--) {
      const seg = files[i];
      const head = Buffer.alloc(96);
      const n = await seg.read(head, 0, head.length, 0).catch(() => 0);
      if (n < 64) continue;
      const magic = head.readInt32BE(4);
      if (magic !== MAGIC_V1 && magic !== MAGIC_V2) continue;
      const ts = readStoreTimestamp(head, 0);
      if (ts !== 0 && ts <= minTimestamp) return seg.fileFromOffset;
    }
    return this.files.minOffset();
  }

  /** Sets the end after recovery: everything from `offset` on is dropped from the files. */
  async truncateTo(offset: number): Promise<void> {
    this.readAhead?.dropFrom(offset);
    await this.files.truncateFrom(offset);
    this.files.setWrittenEnd(offset);
    this.endOffset = offset;
    this.writtenOffset = offset;
    this.flushedOffset = offset;
    this.chunks = [];
    this.spareChunks = [];
    this.writeIndex = 0;
    this.cachedBytes = 0;
  }

  /** The segment files with their last modification times (retention). */
  segments(): readonly SegmentFile[] {
    return this.files.files;
  }

  /** Deletes the oldest file (never the last). */
  async deleteFirstFile(): Promise<boolean> {
    if (this.files.files.length <= 1) return false;
    await this.files.deleteFirst();
    this.readAhead?.dropBelow(this.files.minOffset());
    return true;
  }

  /** Closes files (after {@link flushAll}). */
  async close(): Promise<void> {
    if (this.waiterTimer !== undefined) clearTimeout(this.waiterTimer);
    this.waiterTimer = undefined;
    for (const w of this.waiters.splice(0)) w.resolve(false);
    await this.files.close();
  }
}
