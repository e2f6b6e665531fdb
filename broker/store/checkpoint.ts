/**
 * The `checkpoint` file (broker-internals.md §1.7): one 4 KiB page of int64 timestamps that
 * bounds where abnormal recovery must start re-dispatching. Values live in memory; `flush`
 * writes the page and fdatasyncs it.
 */
import { readInt64BE, writeInt64BE } from '../../common/message/int64';
import type { StoreIO } from './store-io';

const PAGE = 4096;

export class StoreCheckpoint {
  /** Store time of the last CommitLog message known durable. */
  physicMsgTimestamp = 0;
  /** Store time of the last message dispatched into a ConsumeQueue (persisted after a CQ flush). */
  logicsMsgTimestamp = 0;
  /** End time of the last index file that was completely filled and fsynced. */
  indexMsgTimestamp = 0;
  masterFlushedOffset = 0;
  confirmPhyOffset = 0;
  private readonly page = Buffer.alloc(PAGE);
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly io: StoreIO,
    private readonly fd: number,
  ) {}

  static async open(io: StoreIO, file: string): Promise<StoreCheckpoint> {
    const fd = await io.open(file, true);
    const cp = new StoreCheckpoint(io, fd);
    const size = await io.size(fd);
    if (size >= 40) {
      let n = 0;
      while (n < 40) {
        const r = await io.read(fd, cp.page, n, 40 - n, n);
        if (r === 0) break;
        n += r;
      }
      cp.physicMsgTimestamp = readInt64BE(cp.page, 0);
      cp.logicsMsgTimestamp = readInt64BE(cp.page, 8);
      cp.indexMsgTimestamp = readInt64BE(cp.page, 16);
      cp.masterFlushedOffset = readInt64BE(cp.page, 24);
      cp.confirmPhyOffset = readInt64BE(cp.page, 32);
    }
    return cp;
  }

  /** `min(physic, logics) − 3 s`, floored at 0: abnormal recovery starts at or before this. */
  minTimestamp(): number {
    const min = Math.min(this.physicMsgTimestamp, this.logicsMsgTimestamp) - 3000;
    return min < 0 ? 0 : min;
  }

  /** {@link minTimestamp}, also not after the last completed index file. */
  minTimestampIndex(): number {
    return Math.min(this.minTimestamp(), this.indexMsgTimestamp);
  }

  /** Writes and syncs the page; calls are serialised. */
  flush(): Promise<void> {
    this.writing = this.writing.then(
      () => this.writePage(),
      () => this.writePage(),
    );
    return this.writing;
  }

  private async writePage(): Promise<void> {
    writeInt64BE(this.page, 0, this.physicMsgTimestamp);
    writeInt64BE(this.page, 8, this.logicsMsgTimestamp);
    writeInt64BE(this.page, 16, this.indexMsgTimestamp);
    writeInt64BE(this.page, 24, this.masterFlushedOffset);
    writeInt64BE(this.page, 32, this.confirmPhyOffset);
    let n = 0;
    while (n < PAGE) n += await this.io.write(this.fd, this.page, n, PAGE - n, n);
    await this.io.fdatasync(this.fd);
  }

  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    await this.io.close(this.fd);
  }
}
