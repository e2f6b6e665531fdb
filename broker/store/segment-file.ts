/**
 * One fixed-size data file of a CommitLog or ConsumeQueue (RocketMQ's `MappedFile`, without the
 * mmap: Node reads and writes it with positional I/O on one long-lived descriptor). Its name is
 * its absolute start offset in 20 digits; it is created at full size (sparse) and written front
 * to back (broker-internals.md §1.2).
 */
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import type { StoreIO } from './store-io';

/** `%020d` of an offset: the file name of the segment starting there. */
export function segmentFileName(offset: number): string {
  return String(offset).padStart(20, '0');
}

/** Matches segment file names. */
export const SEGMENT_NAME = /^\d{20}$/;

export class SegmentFile {
  readonly path: string;
  /** Bytes handed to the kernel (relative to the file start). Readers see up to here. */
  wrotePosition = 0;
  /** Bytes made durable by fdatasync. */
  flushedPosition = 0;
  private fd = -1;
  private opening: Promise<number> | undefined;
  private refs = 0;
  private destroyed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly io: StoreIO,
    dir: string,
    readonly fileFromOffset: number,
    readonly fileSize: number,
  ) {
    this.path = path.join(dir, segmentFileName(fileFromOffset));
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Absolute offset just past the written bytes. */
  get wroteOffset(): number {
    return this.fileFromOffset + this.wrotePosition;
  }

  get isFull(): boolean {
    return this.wrotePosition >= this.fileSize;
  }

  /**
   * The descriptor, opening (and creating at full size) the file on first use. A failed open is
   * retried on the next call, so a transient EMFILE or ENOSPC does not poison the segment.
   */
  descriptor(): Promise<number> {
    if (this.fd >= 0) return Promise.resolve(this.fd);
    if (this.destroyed) return Promise.reject(new Error(`segment ${this.path} was deleted`));
    if (this.opening === undefined) {
      this.opening = this.openFile().then(
        (fd) => {
          this.opening = undefined;
          if (this.destroyed) {
            void this.io.close(fd).catch(() => undefined);
            throw new Error(`segment ${this.path} was deleted`);
          }
          this.fd = fd;
          return fd;
        },
        (err: unknown) => {
          this.opening = undefined;
          throw err;
        },
      );
    }
    return this.opening;
  }

  private async openFile(): Promise<number> {
    const fd = await this.io.open(this.path, true);
    try {
      const size = await this.io.size(fd);
      if (size < this.fileSize) await this.io.ftruncate(fd, this.fileSize);
      return fd;
    } catch (err) {
      await this.io.close(fd).catch(() => undefined);
      throw err;
    }
  }

  /** Marks a reader; false if the file is already deleted. Pair with {@link release}. */
  hold(): boolean {
    if (this.destroyed) return false;
    this.refs++;
    return true;
  }

  release(): void {
    if (--this.refs === 0 && this.destroyed) void this.closeFd();
  }

  async write(buf: Buffer, offset: number, length: number, filePosition: number): Promise<number> {
    const fd = await this.descriptor();
    return this.io.write(fd, buf, offset, length, filePosition);
  }

  /** Reads up to `length` bytes at `filePosition`, never past the written bytes. */
  async read(buf: Buffer, offset: number, length: number, filePosition: number): Promise<number> {
    const limit = Math.min(length, this.wrotePosition - filePosition);
    if (limit <= 0) return 0;
    const fd = await this.descriptor();
    let done = 0;
    while (done < limit) {
      const n = await this.io.read(fd, buf, offset + done, limit - done, filePosition + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  /** fdatasync if anything written is not yet durable; returns the durable position. */
  async flush(): Promise<number> {
    const target = this.wrotePosition;
    if (this.flushedPosition >= target || this.fd < 0) return this.flushedPosition;
    await this.io.fdatasync(this.fd);
    if (target > this.flushedPosition) this.flushedPosition = target;
    return this.flushedPosition;
  }

  /**
   * Discards everything from `filePosition` on: the file is cut there and extended back to full
   * size, which leaves a sparse zero tail (Node has no hole punching; this is the same thing).
   */
  async truncateFrom(filePosition: number): Promise<void> {
    const fd = await this.descriptor();
    await this.io.ftruncate(fd, filePosition);
    await this.io.ftruncate(fd, this.fileSize);
    this.wrotePosition = Math.min(this.wrotePosition, filePosition);
    this.flushedPosition = Math.min(this.flushedPosition, filePosition);
  }

  /** Last modification time of the file (ms), for retention. */
  async lastModified(): Promise<number> {
    return (await fsp.stat(this.path)).mtimeMs;
  }

  /**
   * Deletes the file. Readers holding it keep reading their open descriptor (POSIX unlink
   * semantics); it is closed when the last one releases it.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await fsp.rm(this.path, { force: true });
    if (this.refs === 0) await this.closeFd();
  }

  /** Closes the descriptor (shutdown); the file stays. */
  async close(): Promise<void> {
    if (this.opening !== undefined) await this.opening.catch(() => undefined);
    await this.closeFd();
  }

  private closeFd(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.fd < 0) return Promise.resolve();
    const fd = this.fd;
    this.fd = -1;
    this.closing = this.io
      .close(fd)
      .catch(() => undefined)
      .finally(() => {
        this.closing = undefined;
      });
    return this.closing;
  }
}
