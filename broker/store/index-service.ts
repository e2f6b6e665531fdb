/**
 * The index files as a whole (broker-internals.md §1.6): builds entries for `UNIQ_KEY` and every
 * `KEYS` token during dispatch, rolls to a new file when one is full (sealing the full one in the
 * background and only then advancing the checkpoint's `indexMsgTimestamp`), answers key queries,
 * and deletes files behind the CommitLog.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { MessageSysFlag, transactionType } from '../../common/message/sysflag';
import type { StoreCheckpoint } from './checkpoint';
import { IndexFile, indexFileName, indexKeyHash } from './index-file';
import type { StoreIO } from './store-io';

const INDEX_NAME = /^\d{17}$/;

export interface QueryOffsetResult {
  phyOffsets: number[];
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

export class IndexService {
  private files: IndexFile[] = [];
  /** The file being filled, or a promise of it while it is being created. */
  private creating: Promise<IndexFile> | undefined;
  /** Keys that arrived while the next file was being created; added once it exists. */
  private backlog: { hash: number; phyOffset: number; storeTimestamp: number }[] = [];
  private lastName = '';

  constructor(
    private readonly io: StoreIO,
    private readonly dir: string,
    private readonly hashSlotNum: number,
    private readonly indexNum: number,
    private readonly checkpoint: StoreCheckpoint,
    private readonly logger: Logger,
  ) {}

  /**
   * Loads the index files. After a crash (`lastExitOK` false) every file that was not completely
   * filled and synced before the checkpoint's `indexMsgTimestamp` is deleted (§3.1 step 3); the
   * re-dispatch of recovery rebuilds what it covered.
   */
  async load(lastExitOK: boolean): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    const names = (await fsp.readdir(this.dir)).filter((n) => INDEX_NAME.test(n)).sort();
    for (let i = 0; i < names.length; i++) {
      const file = path.join(this.dir, names[i]);
      let f: IndexFile;
      try {
        f = await IndexFile.load(
          this.io,
          file,
          this.hashSlotNum,
          this.indexNum,
          i === names.length - 1 && lastExitOK,
          this.logger,
        );
      } catch (err) {
        // An index can always be rebuilt, so a bad one is set aside rather than stopping the start.
        this.logger.error({ err, file }, 'unusable index file, deleting it');
        await fsp.rm(file, { force: true });
        continue;
      }
      const complete = f.endTimestamp > 0 && f.endTimestamp <= this.checkpoint.indexMsgTimestamp;
      if (!lastExitOK && !complete) {
        this.logger.info({ file }, 'deleting index file not completed before the crash');
        await f.destroy();
        continue;
      }
      this.files.push(f);
    }
    this.lastName = names[names.length - 1] ?? '';
  }

  /** CommitLog offset after which messages still need indexing. */
  endPhyOffset(): number {
    const last = this.files[this.files.length - 1];
    return last ? last.endPhyOffset : 0;
  }

  /**
   * Indexes one dispatched message (§1.6 "what is indexed"): skipped if at or below the end of
   * what the newest file covers, or for ROLLBACK. Synchronous; the entries are written later by
   * {@link writePending}.
   */
  buildIndex(
    topic: string,
    phyOffset: number,
    storeTimestamp: number,
    sysFlag: number,
    keys: string | undefined,
    uniqKey: string | undefined,
  ): void {
    if (transactionType(sysFlag) === MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) return;
    const last = this.files[this.files.length - 1];
    if (last !== undefined && phyOffset < last.endPhyOffset) return;
    if (uniqKey) this.put(indexKeyHash(topic, uniqKey), phyOffset, storeTimestamp);
    if (keys) {
      let start = 0;
      while (start <= keys.length) {
        let end = keys.indexOf(' ', start);
        if (end < 0) end = keys.length;
        if (end > start) {
          this.put(indexKeyHash(topic, keys.slice(start, end)), phyOffset, storeTimestamp);
        }
        start = end + 1;
      }
    }
  }

  private put(hash: number, phyOffset: number, storeTimestamp: number): void {
    if (this.creating === undefined) {
      const last = this.files[this.files.length - 1];
      if (last !== undefined && last.putKey(hash, phyOffset, storeTimestamp)) return;
      this.roll(last);
    }
    this.backlog.push({ hash, phyOffset, storeTimestamp });
  }

  /** Seals the full file in the background and starts the next one. */
  private roll(full: IndexFile | undefined): void {
    let name = indexFileName(Date.now());
    if (name <= this.lastName) name = String(Number(this.lastName) + 1);
    this.lastName = name;
    if (full !== undefined && full.isWritable) {
      void full
        .persist(true)
        .then(() => {
          // Only a completely synced file may move the crash-recovery bound (§1.6).
          this.checkpoint.indexMsgTimestamp = full.endTimestamp;
          return this.checkpoint.flush();
        })
        .catch((err: unknown) =>
          this.logger.error({ err, file: full.path }, 'sealing full index file failed'),
        );
    }
    this.creating = IndexFile.create(
      this.io,
      path.join(this.dir, name),
      this.hashSlotNum,
      this.indexNum,
      this.logger,
    );
    this.creating.then(
      (f) => {
        if (full !== undefined) {
          f.beginPhyOffset = full.endPhyOffset;
          f.endPhyOffset = full.endPhyOffset;
          f.beginTimestamp = full.endTimestamp;
          f.endTimestamp = full.endTimestamp;
        }
        this.files.push(f);
        this.creating = undefined;
        const backlog = this.backlog;
        this.backlog = [];
        for (const k of backlog) this.put(k.hash, k.phyOffset, k.storeTimestamp);
      },
      (err: unknown) => {
        this.creating = undefined;
        this.logger.error(
          { err },
          `creating index file failed; ${this.backlog.length} keys not indexed`,
        );
        this.backlog = [];
      },
    );
  }

  /**
   * Hands buffered entries of the file being filled to the kernel, if at least `least` are
   * buffered (0: any).
   */
  async writePending(least = 0): Promise<void> {
    const last = this.files[this.files.length - 1];
    if (last !== undefined && last.pendingEntries() >= Math.max(1, least))
      await last.writeEntries();
  }

  /** Waits for a file being created (queries, truncation, shutdown). */
  async settle(): Promise<void> {
    while (this.creating) await this.creating.catch(() => undefined);
  }

  /** Key query (§1.6): newest file first; `maxNum` already capped by the caller. */
  async queryOffset(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
  ): Promise<QueryOffsetResult> {
    // Keys dispatched while a new file was being created wait in the backlog until it exists;
    // a query right after a put must see them.
    await this.settle();
    const phyOffsets: number[] = [];
    const newest = this.files[this.files.length - 1];
    const hash = indexKeyHash(topic, key);
    const files = this.files.slice();
    for (let i = files.length - 1; i >= 0; i--) {
      const f = files[i];
      if (f.isTimeMatched(begin, end))
        await f.selectPhyOffsets(phyOffsets, hash, maxNum, begin, end);
      if (f.beginTimestamp < begin || phyOffsets.length >= maxNum) break;
    }
    return {
      phyOffsets,
      indexLastUpdateTimestamp: newest ? newest.endTimestamp : 0,
      indexLastUpdatePhyoffset: newest ? newest.endPhyOffset : 0,
    };
  }

  /**
   * The CommitLog was cut at `phyOffset` (a rejoining slave drops what diverged): entries
   * pointing at or past it are removed, so a key query cannot return another message written at
   * those offsets later, and that message is indexed once dispatched (indexing resumes after
   * the newest remaining entry). Files wholly past the cut are deleted.
   */
  async truncate(phyOffset: number): Promise<void> {
    await this.settle();
    for (let last = this.files.at(-1); last !== undefined; last = this.files.at(-1)) {
      if (last.endPhyOffset < phyOffset) return;
      if (last.indexCount > 1 && last.beginPhyOffset < phyOffset) {
        await last.truncateFrom(phyOffset);
        this.logger.warn(
          { file: last.path, phyOffset },
          'index entries past the CommitLog cut removed',
        );
        return;
      }
      this.files.pop();
      this.logger.warn(
        { file: last.path, phyOffset },
        'deleting index file past the CommitLog cut',
      );
      await last.destroy();
    }
  }

  /** Deletes files wholly below CommitLog offset `phyMinOffset`, never the newest. */
  async deleteExpiredFiles(phyMinOffset: number): Promise<number> {
    let deleted = 0;
    while (this.files.length > 1 && this.files[0].endPhyOffset < phyMinOffset) {
      const f = this.files.shift();
      if (f) {
        this.logger.info({ file: f.path }, 'deleting expired index file');
        await f.destroy();
        deleted++;
      }
    }
    return deleted;
  }

  /** Deletes every index file (the dispatcher rebuilds from where it is asked to). */
  async destroyAll(): Promise<void> {
    await this.settle();
    const all = this.files;
    this.files = [];
    for (const f of all) await f.destroy();
  }

  /** Clean shutdown: the file being filled is written completely and synced. */
  async close(): Promise<void> {
    await this.settle();
    const last = this.files[this.files.length - 1];
    if (last !== undefined && last.isWritable) {
      await last
        .persist(false)
        .catch((err: unknown) =>
          this.logger.error({ err, file: last.path }, 'writing index file at shutdown failed'),
        );
    }
    for (const f of this.files) await f.close();
  }
}
