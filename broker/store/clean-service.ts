/**
 * Retention and disk protection (broker-internals.md §4): deletes expired CommitLog files at the
 * `deleteWhen` hours, or at any hour when the disk is fuller than `diskMaxUsedSpaceRatio`, the
 * oldest files regardless of age above `diskSpaceCleanForciblyRatio`, then the ConsumeQueue and
 * index files that only pointed into them; and marks the disk full (puts refused with
 * SERVICE_NOT_AVAILABLE) above `diskSpaceWarningLevelRatio` until usage drops again.
 */
import type { Logger } from 'pino';
import type { CommitLog } from './commit-log';
import type { ConsumeQueueTable } from './consume-queue-table';
import type { IndexService } from './index-service';
import { type StoreConfig, diskRatios, isDeleteHour } from './store-config';
import type { DiskUsage, StoreIO } from './store-io';

const HOUR_MS = 3_600_000;

export interface CleanServiceOptions {
  config: StoreConfig;
  io: StoreIO;
  commitLog: CommitLog;
  commitLogDir: string;
  queues: ConsumeQueueTable;
  index: IndexService | undefined;
  logger: Logger;
}

export class CleanService {
  /** Puts are refused while set (RocketMQ's DISK_FULL running flag). */
  diskFull = false;
  /** Last measured usage of the CommitLog partition (fraction), −1 before the first check. */
  commitLogDiskRatio = -1;
  lastUsage: DiskUsage | undefined;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: CleanServiceOptions) {}

  start(): void {
    const { config } = this.opts;
    this.timers.push(
      setInterval(() => this.runExclusive(() => this.runOnce()), config.cleanResourceInterval),
      setInterval(() => this.runExclusive(() => this.checkDisk()), config.diskCheckInterval),
    );
    for (const t of this.timers) t.unref();
  }

  private runExclusive(task: () => Promise<unknown>): void {
    if (this.running !== undefined) return;
    this.running = task()
      .catch((err: unknown) => this.opts.logger.error({ err }, 'store clean task failed'))
      .finally(() => {
        this.running = undefined;
      });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.running !== undefined) await this.running;
  }

  /** Measures the CommitLog partition; returns the used fraction (−1 if it cannot be read). */
  private async usedRatio(): Promise<number> {
    try {
      const usage = await this.opts.io.diskUsage(this.opts.commitLogDir);
      this.lastUsage = usage;
      this.commitLogDiskRatio = usage.total > 0 ? (usage.total - usage.free) / usage.total : 0;
    } catch (err) {
      this.opts.logger.warn({ err }, 'cannot read disk usage of the CommitLog partition');
      return -1;
    }
    return this.commitLogDiskRatio;
  }

  /** The periodic check alone (§4.2 step 6): full above the warning ratio, else not. */
  async checkDisk(): Promise<void> {
    const ratio = await this.usedRatio();
    if (ratio < 0) return;
    this.setDiskFull(ratio > diskRatios(this.opts.config).warning, ratio);
  }

  private setDiskFull(full: boolean, ratio: number): void {
    if (full === this.diskFull) return;
    this.diskFull = full;
    if (full) {
      this.opts.logger.error(
        { ratio },
        'disk of the CommitLog is full (above diskSpaceWarningLevelRatio): refusing puts',
      );
    } else {
      this.opts.logger.info({ ratio }, 'disk space recovered: accepting puts again');
    }
  }

  /**
   * One retention run (§4.2); returns the number of CommitLog files deleted. `now` is a parameter
   * so tests can pick the hour.
   */
  async runOnce(now = new Date(), manual = false): Promise<number> {
    const { config, logger, commitLog } = this.opts;
    const ratios = diskRatios(config);
    const ratio = await this.usedRatio();
    let cleanImmediately = false;
    if (ratio > ratios.warning) {
      this.setDiskFull(true, ratio);
      cleanImmediately = true;
    } else if (ratio > ratios.forcibly) {
      cleanImmediately = true;
    } else if (ratio >= 0) {
      this.setDiskFull(false, ratio);
    }
    const spaceFull = ratio > ratios.maxUsed;
    const timeUp = isDeleteHour(config.deleteWhen, now);
    if (!timeUp && !spaceFull && !manual) return 0;

    const forcibly = cleanImmediately && config.cleanFileForciblyEnable;
    const expiredBefore = now.getTime() - config.fileReservedTime * HOUR_MS;
    let deleted = 0;
    while (deleted < config.deleteFileBatchMax) {
      const files = commitLog.segments();
      if (files.length <= 1) break;
      const first = files[0];
      const modified = await first.lastModified().catch(() => now.getTime());
      if (modified > expiredBefore && !forcibly) break;
      logger.info(
        { file: first.path, modified, forcibly, ratio },
        'deleting CommitLog file (retention)',
      );
      await commitLog.deleteFirstFile();
      deleted++;
      if (config.deleteCommitLogFilesInterval > 0) await sleep(config.deleteCommitLogFilesInterval);
    }
    if (deleted > 0) await this.cleanLogicFiles();
    if (forcibly && deleted > 0) await this.checkDisk();
    return deleted;
  }

  /** ConsumeQueue and index files wholly below the new CommitLog start (§4.2 step 5). */
  private async cleanLogicFiles(): Promise<void> {
    const { config, commitLog, queues, index } = this.opts;
    const minPhy = commitLog.minOffset();
    for (const cq of queues.all()) {
      await cq.deleteExpiredFiles(minPhy, config.deleteConsumeQueueFilesInterval);
      await cq.correctMinOffset(minPhy);
    }
    if (index !== undefined) await index.deleteExpiredFiles(minPhy);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
