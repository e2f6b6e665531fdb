/**
 * An ordered run of equally sized segment files covering one contiguous offset range
 * (RocketMQ's `MappedFileQueue`, broker-internals.md §1.2): the CommitLog and every
 * ConsumeQueue are one of these.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { SEGMENT_NAME, SegmentFile } from './segment-file';
import { StoreError } from './store-config';
import type { StoreIO } from './store-io';

export class SegmentQueue {
  private segments: SegmentFile[] = [];
  /** The next file, created ahead of need (CommitLog only) so a rollover never waits on open. */
  private preallocated: SegmentFile | undefined;
  private dirReady = false;

  constructor(
    private readonly io: StoreIO,
    readonly dir: string,
    readonly fileSize: number,
    private readonly logger: Logger,
    private readonly preallocate = false,
  ) {}

  /**
   * Loads the files found in the directory (creating it if missing). Empty files at the end are
   * deleted (a crash between create and size; the next file may be preallocated while the
   * current one is still being sized, so there can be two); a short last file is extended (a
   * crash inside a truncation); any other file whose length is not the configured size stops
   * the start with a StoreError naming it, as RocketMQ refuses to start then too. Loaded files
   * count as fully written until recovery says otherwise.
   */
  async load(): Promise<void> {
    await this.ensureDir();
    const names = (await fsp.readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    const sizes = await Promise.all(
      names.map(async (n) => (await fsp.stat(path.join(this.dir, n))).size),
    );
    while (names.length > 0 && sizes[sizes.length - 1] === 0) {
      const file = path.join(this.dir, names.pop()!);
      sizes.pop();
      this.logger.warn({ file }, 'deleting empty segment file at the end');
      await fsp.rm(file, { force: true });
    }
    for (let i = 0; i < names.length; i++) {
      const file = path.join(this.dir, names[i]);
      const size = sizes[i];
      if (size > 0 && size < this.fileSize && i === names.length - 1) {
        // A truncation (cut, then extend back to full size) interrupted by a crash: the bytes
        // kept are valid and the rest was meant to be zeros, so finish the job.
        this.logger.warn({ file, size }, 'extending a short last segment file to full size');
        await fsp.truncate(file, this.fileSize);
      } else if (size !== this.fileSize) {
        throw new StoreError(
          `segment file ${file} is ${size} bytes, but the configured size is ${this.fileSize}; ` +
            'fix the store config (mappedFileSize*) or move the file away',
        );
      }
      const from = Number(names[i]);
      const prev = this.segments[this.segments.length - 1];
      if (prev && from !== prev.fileFromOffset + this.fileSize) {
        throw new StoreError(
          `segment files in ${this.dir} are not contiguous: ${names[i]} follows ${path.basename(prev.path)}`,
        );
      }
      const seg = new SegmentFile(this.io, this.dir, from, this.fileSize);
      seg.wrotePosition = this.fileSize;
      seg.flushedPosition = this.fileSize;
      this.segments.push(seg);
    }
  }

  /** Creates the directory once (a queue created at run time has none yet). */
  async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await fsp.mkdir(this.dir, { recursive: true });
    this.dirReady = true;
  }

  get files(): readonly SegmentFile[] {
    return this.segments;
  }

  get isEmpty(): boolean {
    return this.segments.length === 0;
  }

  first(): SegmentFile | undefined {
    return this.segments[0];
  }

  last(): SegmentFile | undefined {
    return this.segments[this.segments.length - 1];
  }

  /** Start of the first file (0 when there is none). */
  minOffset(): number {
    return this.segments.length > 0 ? this.segments[0].fileFromOffset : 0;
  }

  /** End of the written bytes of the last file. */
  maxOffset(): number {
    const last = this.last();
    return last ? last.wroteOffset : 0;
  }

  /** Durable end: the flushed position of the first file not fully flushed. */
  flushedOffset(): number {
    for (const seg of this.segments) {
      if (seg.flushedPosition < seg.fileSize) return seg.fileFromOffset + seg.flushedPosition;
    }
    const last = this.last();
    return last ? last.fileFromOffset + last.fileSize : 0;
  }

  /** The file covering absolute `offset`, if it exists. */
  find(offset: number): SegmentFile | undefined {
    const first = this.segments[0];
    if (first === undefined || offset < first.fileFromOffset) return undefined;
    const seg = this.segments[Math.floor((offset - first.fileFromOffset) / this.fileSize)];
    return seg !== undefined && offset < seg.fileFromOffset + this.fileSize ? seg : undefined;
  }

  /** Start of the file after the one holding `offset`. */
  rollNextFile(offset: number): number {
    return offset + this.fileSize - (offset % this.fileSize);
  }

  /**
   * The file starting at `fileFromOffset`, appending it (synchronously: it opens on first I/O)
   * when it is the next one. With preallocation the file after it is opened in the background.
   */
  getOrCreate(fileFromOffset: number): SegmentFile {
    const last = this.last();
    if (last && last.fileFromOffset === fileFromOffset) return last;
    const existing = this.find(fileFromOffset);
    if (existing) return existing;
    let seg: SegmentFile;
    if (this.preallocated && this.preallocated.fileFromOffset === fileFromOffset) {
      seg = this.preallocated;
      this.preallocated = undefined;
    } else {
      seg = new SegmentFile(this.io, this.dir, fileFromOffset, this.fileSize);
    }
    this.segments.push(seg);
    if (this.preallocate) {
      this.preallocated = new SegmentFile(
        this.io,
        this.dir,
        fileFromOffset + this.fileSize,
        this.fileSize,
      );
      this.preallocated.descriptor().catch((err: unknown) => {
        this.logger.warn({ err, file: this.preallocated?.path }, 'preallocating segment failed');
      });
    }
    return seg;
  }

  /**
   * Drops everything at and after absolute `offset`: later files are deleted, the file holding
   * it is cut there (its tail zeroed).
   */
  async truncateFrom(offset: number): Promise<void> {
    await this.dropPreallocated();
    // Later files go first, newest first, so that a crash in between leaves the cut file last
    // (see `load`) and never a hole.
    while (this.segments.length > 0) {
      const last = this.segments[this.segments.length - 1];
      if (last.fileFromOffset <= offset) break;
      this.logger.info({ file: last.path }, 'deleting segment file past the valid end');
      this.segments.pop();
      await last.destroy();
    }
    const holder = this.segments[this.segments.length - 1];
    if (holder !== undefined && offset < holder.fileFromOffset + this.fileSize) {
      await holder.truncateFrom(offset - holder.fileFromOffset);
    }
  }

  /** Sets positions after recovery: files before `offset` full, the one holding it there. */
  setWrittenEnd(offset: number): void {
    for (const seg of this.segments) {
      const pos = Math.max(0, Math.min(this.fileSize, offset - seg.fileFromOffset));
      seg.wrotePosition = pos;
      seg.flushedPosition = pos;
    }
  }

  /** Removes the first file from the queue and deletes it. */
  async deleteFirst(): Promise<void> {
    const seg = this.segments.shift();
    if (seg) await seg.destroy();
  }

  /** Deletes every file (the queue stays usable, empty). */
  async destroyAll(): Promise<void> {
    const all = this.segments;
    this.segments = [];
    for (const seg of all) await seg.destroy();
    await this.dropPreallocated();
  }

  /** fdatasyncs every file with bytes written but not durable, oldest first. */
  async flush(): Promise<void> {
    for (const seg of this.segments) {
      if (seg.flushedPosition < seg.wrotePosition) await seg.flush();
    }
  }

  async close(): Promise<void> {
    for (const seg of this.segments) await seg.close();
    await this.dropPreallocated();
  }

  /** An unused preallocated file is removed so it is not mistaken for data at the next start. */
  private async dropPreallocated(): Promise<void> {
    const pre = this.preallocated;
    this.preallocated = undefined;
    if (pre) await pre.destroy();
  }
}
