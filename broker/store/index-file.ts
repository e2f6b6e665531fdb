/**
 * One IndexFile (broker-internals.md §1.6): a hash index from message keys to CommitLog offsets.
 *
 *   header (40 B): int64 beginTimestamp | int64 endTimestamp | int64 beginPhyOffset |
 *                  int64 endPhyOffset | int32 hashSlotCount | int32 indexCount
 *   slots:         hashSlotNum × int32 (index number of the newest entry of that hash, 0 = none)
 *   entries:       indexNum × (int32 keyHash | int64 phyOffset | int32 timeDiffSeconds | int32 prevIndex)
 *
 * `indexCount` starts at 1: entry 0 is never used, so 0 means "none" in slots and chains.
 *
 * Without mmap, the file being filled keeps its header and slot table in memory (slots are
 * random writes) and appends its entries to the file in batches; the slot table and header are
 * written when the file is full or the store shuts down cleanly. After a crash that file is
 * discarded anyway (§3.1 step 3) and rebuilt by re-dispatch, so nothing is lost by deferring.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { readInt64BE, writeInt64BE } from '../../common/message/int64';
import type { StoreIO } from './store-io';

export const INDEX_HEADER_SIZE = 40;
export const INDEX_SLOT_SIZE = 4;
export const INDEX_ENTRY_SIZE = 20;
/** Entries read per call while undoing a truncated suffix. */
const TRUNCATE_BATCH = 4096;

/** `abs(String.hashCode(topic + "#" + key))`, with MIN_VALUE → 0, without building the string. */
export function indexKeyHash(topic: string, key: string): number {
  let h = 0;
  for (let i = 0; i < topic.length; i++) h = (Math.imul(h, 31) + topic.charCodeAt(i)) | 0;
  h = (Math.imul(h, 31) + 35) | 0; // '#'
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) | 0;
  return h === -2147483648 ? 0 : Math.abs(h);
}

/** `yyyyMMddHHmmssSSS` in local time: the name of an index file created at `ms`. */
export function indexFileName(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    String(d.getFullYear()) +
    p(d.getMonth() + 1) +
    p(d.getDate()) +
    p(d.getHours()) +
    p(d.getMinutes()) +
    p(d.getSeconds()) +
    p(d.getMilliseconds(), 3)
  );
}

export function indexFileSize(hashSlotNum: number, indexNum: number): number {
  return INDEX_HEADER_SIZE + hashSlotNum * INDEX_SLOT_SIZE + indexNum * INDEX_ENTRY_SIZE;
}

export class IndexFile {
  beginTimestamp = 0;
  endTimestamp = 0;
  beginPhyOffset = 0;
  endPhyOffset = 0;
  hashSlotCount = 0;
  indexCount = 1;
  /** Slot table of the file being filled; undefined once sealed (read from the file then). */
  private slots: Int32Array | undefined;
  /** Entries [writtenCount, indexCount) not yet in the file. */
  private pending = Buffer.alloc(64 * INDEX_ENTRY_SIZE);
  private writtenCount = 1;
  private writing: Promise<void> | undefined;
  private destroyed = false;
  private refs = 0;
  private closed = false;

  private constructor(
    private readonly io: StoreIO,
    readonly path: string,
    private readonly fd: number,
    readonly hashSlotNum: number,
    readonly indexNum: number,
    private readonly logger: Logger,
  ) {}

  /** A new empty file being filled, sized (sparse) for its dimensions. */
  static async create(
    io: StoreIO,
    file: string,
    hashSlotNum: number,
    indexNum: number,
    logger: Logger,
  ): Promise<IndexFile> {
    const fd = await io.open(file, true);
    await io.ftruncate(fd, indexFileSize(hashSlotNum, indexNum));
    const f = new IndexFile(io, file, fd, hashSlotNum, indexNum, logger);
    f.slots = new Int32Array(hashSlotNum);
    return f;
  }

  /**
   * Opens an existing file: the header is read; `writable` also loads the slot table so the file
   * can be filled further. Throws if the file's size does not match the dimensions.
   */
  static async load(
    io: StoreIO,
    file: string,
    hashSlotNum: number,
    indexNum: number,
    writable: boolean,
    logger: Logger,
  ): Promise<IndexFile> {
    const fd = await io.open(file, false);
    try {
      const size = await io.size(fd);
      const expected = indexFileSize(hashSlotNum, indexNum);
      if (size !== expected) {
        throw new Error(
          `index file ${file} is ${size} bytes, expected ${expected} for maxHashSlotNum=${hashSlotNum} maxIndexNum=${indexNum}`,
        );
      }
      const f = new IndexFile(io, file, fd, hashSlotNum, indexNum, logger);
      const h = Buffer.alloc(INDEX_HEADER_SIZE);
      await f.readAt(h, 0, INDEX_HEADER_SIZE, 0);
      f.beginTimestamp = readInt64BE(h, 0);
      f.endTimestamp = readInt64BE(h, 8);
      f.beginPhyOffset = readInt64BE(h, 16);
      f.endPhyOffset = readInt64BE(h, 24);
      f.hashSlotCount = h.readInt32BE(32);
      f.indexCount = Math.max(1, h.readInt32BE(36));
      f.writtenCount = f.indexCount;
      if (writable && !f.isFull()) f.slots = await f.readSlots();
      return f;
    } catch (err) {
      await io.close(fd).catch(() => undefined);
      throw err;
    }
  }

  isFull(): boolean {
    return this.indexCount >= this.indexNum;
  }

  get isWritable(): boolean {
    return this.slots !== undefined;
  }

  /**
   * Adds one key (its hash already computed). Returns false if the file is full or sealed.
   * Synchronous: the entry is buffered and written by {@link writeEntries}.
   */
  putKey(keyHash: number, phyOffset: number, storeTimestamp: number): boolean {
    const slots = this.slots;
    if (slots === undefined || this.isFull()) return false;
    const slot = keyHash % this.hashSlotNum;
    let prev = slots[slot];
    if (prev <= 0 || prev > this.indexCount) prev = 0;
    const first = this.indexCount <= 1;
    if (first) {
      this.beginPhyOffset = phyOffset;
      this.beginTimestamp = storeTimestamp;
    }
    let timeDiff = first ? 0 : Math.trunc((storeTimestamp - this.beginTimestamp) / 1000);
    if (this.beginTimestamp <= 0 || timeDiff < 0) timeDiff = 0;
    else if (timeDiff > 0x7fffffff) timeDiff = 0x7fffffff;
    let pos = (this.indexCount - this.writtenCount) * INDEX_ENTRY_SIZE;
    if (pos + INDEX_ENTRY_SIZE > this.pending.length) pos = this.growPending();
    const b = this.pending;
    b.writeInt32BE(keyHash, pos);
    writeInt64BE(b, pos + 4, phyOffset);
    b.writeInt32BE(timeDiff, pos + 12);
    b.writeInt32BE(prev, pos + 16);
    slots[slot] = this.indexCount;
    if (prev === 0) this.hashSlotCount++;
    this.indexCount++;
    this.endPhyOffset = phyOffset;
    this.endTimestamp = storeTimestamp;
    return true;
  }

  private growPending(): number {
    const used = (this.indexCount - this.writtenCount) * INDEX_ENTRY_SIZE;
    const grown = Buffer.alloc(Math.max(this.pending.length * 2, used + INDEX_ENTRY_SIZE));
    this.pending.copy(grown, 0, 0, used);
    this.pending = grown;
    return used;
  }

  /** Number of entries buffered, not yet in the file. */
  pendingEntries(): number {
    return this.indexCount - this.writtenCount;
  }

  /** Appends the buffered entries to the file (one write); concurrent calls chain. */
  writeEntries(): Promise<void> {
    if (this.writing) return this.writing.then(() => this.writeEntries());
    if (this.writtenCount >= this.indexCount) return Promise.resolve();
    this.writing = this.writePending().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async writePending(): Promise<void> {
    while (this.writtenCount < this.indexCount) {
      const count = this.indexCount - this.writtenCount;
      // New entries land after these (or in a grown copy), so the bytes stay put while in flight.
      const bytes = this.pending;
      const length = count * INDEX_ENTRY_SIZE;
      const position = this.entryPosition(this.writtenCount);
      let done = 0;
      while (done < length) {
        done += await this.io.write(this.fd, bytes, done, length - done, position + done);
      }
      // Entries added during the write follow them: shift those to the front.
      const added = this.indexCount - this.writtenCount - count;
      this.pending.copyWithin(0, count * INDEX_ENTRY_SIZE, (count + added) * INDEX_ENTRY_SIZE);
      this.writtenCount += count;
    }
  }

  /**
   * Writes everything (entries, slot table, header) and fdatasyncs: the file is then complete
   * on disk. With `seal` the slot table is dropped from memory and the file is read-only.
   */
  async persist(seal: boolean): Promise<void> {
    await this.writeEntries();
    const slots = this.slots;
    if (slots !== undefined) {
      const raw = Buffer.allocUnsafe(this.hashSlotNum * INDEX_SLOT_SIZE);
      for (let i = 0; i < slots.length; i++) raw.writeInt32BE(slots[i], i * INDEX_SLOT_SIZE);
      await this.writeAt(raw, INDEX_HEADER_SIZE);
    }
    await this.writeAt(this.headerBytes(), 0);
    await this.io.fdatasync(this.fd);
    if (seal) this.slots = undefined;
  }

  /**
   * Drops the entries pointing at or past CommitLog offset `phyOffset` (the CommitLog was cut
   * there, and other messages will be written at those offsets). Entries are in CommitLog order,
   * so they are a suffix: they are undone newest first, each one's slot pointing back at the
   * previous entry of its chain. The result is written and synced; a sealed file stays sealed.
   */
  async truncateFrom(phyOffset: number): Promise<void> {
    await this.writeEntries();
    const sealed = this.slots === undefined;
    const slots = this.slots ?? (await this.readSlots());
    const batch = Buffer.allocUnsafe(TRUNCATE_BATCH * INDEX_ENTRY_SIZE);
    let count = this.indexCount;
    let kept: { phyOffset: number; timeDiff: number } | undefined;
    while (count > 1 && kept === undefined) {
      const from = Math.max(1, count - TRUNCATE_BATCH);
      await this.readAt(batch, 0, (count - from) * INDEX_ENTRY_SIZE, this.entryPosition(from));
      for (let n = count - 1; n >= from; n--) {
        const p = (n - from) * INDEX_ENTRY_SIZE;
        const entryOffset = readInt64BE(batch, p + 4);
        if (entryOffset < phyOffset) {
          kept = { phyOffset: entryOffset, timeDiff: batch.readInt32BE(p + 12) };
          break;
        }
        const slot = batch.readInt32BE(p) % this.hashSlotNum;
        if (slots[slot] === n) {
          const prev = batch.readInt32BE(p + 16);
          slots[slot] = prev;
          if (prev === 0) this.hashSlotCount--;
        }
        count = n;
      }
    }
    this.indexCount = count;
    this.writtenCount = count;
    if (kept !== undefined) {
      this.endPhyOffset = kept.phyOffset;
      // Only whole seconds are stored: the end time is rounded up, never below the entry's time.
      this.endTimestamp = Math.min(
        this.endTimestamp,
        this.beginTimestamp + (kept.timeDiff + 1) * 1000 - 1,
      );
    }
    this.slots = slots;
    await this.persist(sealed);
  }

  private async readSlots(): Promise<Int32Array> {
    const raw = Buffer.allocUnsafe(this.hashSlotNum * INDEX_SLOT_SIZE);
    await this.readAt(raw, 0, raw.length, INDEX_HEADER_SIZE);
    const slots = new Int32Array(this.hashSlotNum);
    for (let i = 0; i < this.hashSlotNum; i++) slots[i] = raw.readInt32BE(i * INDEX_SLOT_SIZE);
    return slots;
  }

  private headerBytes(): Buffer {
    const h = Buffer.alloc(INDEX_HEADER_SIZE);
    writeInt64BE(h, 0, this.beginTimestamp);
    writeInt64BE(h, 8, this.endTimestamp);
    writeInt64BE(h, 16, this.beginPhyOffset);
    writeInt64BE(h, 24, this.endPhyOffset);
    h.writeInt32BE(this.hashSlotCount, 32);
    h.writeInt32BE(this.indexCount, 36);
    return h;
  }

  private async writeAt(buf: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      done += await this.io.write(this.fd, buf, done, buf.length - done, position + done);
    }
  }

  private async readAt(
    buf: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<void> {
    let done = 0;
    while (done < length) {
      const n = await this.io.read(this.fd, buf, offset + done, length - done, position + done);
      if (n === 0) throw new Error(`index file ${this.path} ends early at ${position + done}`);
      done += n;
    }
  }

  private entryPosition(n: number): number {
    return INDEX_HEADER_SIZE + this.hashSlotNum * INDEX_SLOT_SIZE + n * INDEX_ENTRY_SIZE;
  }

  /** The file's time range overlaps [begin, end]. */
  isTimeMatched(begin: number, end: number): boolean {
    const fb = this.beginTimestamp;
    const fe = this.endTimestamp;
    return (begin < fb && end > fe) || (begin >= fb && begin <= fe) || (end >= fb && end <= fe);
  }

  /**
   * Follows the chain of `keyHash`'s slot from the newest entry back, adding to `out` the CommitLog
   * offsets of entries with that hash stored within [begin, end], until `out` holds `maxNum`.
   * Only hashes are compared: the caller re-checks real keys.
   */
  async selectPhyOffsets(
    out: number[],
    keyHash: number,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<void> {
    if (!this.hold()) return;
    try {
      if (this.indexCount <= 1) return;
      const slot = keyHash % this.hashSlotNum;
      let next: number;
      if (this.slots !== undefined) {
        next = this.slots[slot];
      } else {
        const b = Buffer.allocUnsafe(INDEX_SLOT_SIZE);
        await this.readAt(b, 0, INDEX_SLOT_SIZE, INDEX_HEADER_SIZE + slot * INDEX_SLOT_SIZE);
        next = b.readInt32BE(0);
      }
      const entry = Buffer.allocUnsafe(INDEX_ENTRY_SIZE);
      while (next > 0 && next < this.indexCount && out.length < maxNum) {
        let b: Buffer;
        let p: number;
        if (next >= this.writtenCount) {
          b = this.pending;
          p = (next - this.writtenCount) * INDEX_ENTRY_SIZE;
        } else {
          await this.readAt(entry, 0, INDEX_ENTRY_SIZE, this.entryPosition(next));
          b = entry;
          p = 0;
        }
        const hash = b.readInt32BE(p);
        const phyOffset = readInt64BE(b, p + 4);
        const timeDiff = b.readInt32BE(p + 12);
        const prev = b.readInt32BE(p + 16);
        if (timeDiff < 0) break;
        const time = this.beginTimestamp + timeDiff * 1000;
        if (hash === keyHash && time >= begin && time <= end) out.push(phyOffset);
        if (prev <= 0 || prev >= this.indexCount || prev === next || time < begin) break;
        next = prev;
      }
    } catch (err) {
      this.logger.warn({ err, file: this.path }, 'index file read failed');
    } finally {
      this.release();
    }
  }

  private hold(): boolean {
    if (this.destroyed || this.closed) return false;
    this.refs++;
    return true;
  }

  private release(): void {
    if (--this.refs === 0 && (this.destroyed || this.closed))
      void this.io.close(this.fd).catch(() => undefined);
  }

  /** Deletes the file (the descriptor closes when the last query releases it). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.writing) await this.writing.catch(() => undefined);
    await rm(this.path, { force: true });
    if (this.refs === 0 && !this.closed) await this.io.close(this.fd).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed || this.destroyed) return;
    this.closed = true;
    if (this.refs === 0) await this.io.close(this.fd).catch(() => undefined);
  }
}
