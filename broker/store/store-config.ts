/**
 * The store's configuration. Keys are RocketMQ's `MessageStoreConfig` field names with
 * RocketMQ's defaults (broker-internals.md §1–§4, §16), so a `broker.conf` maps onto it by name;
 * every value is a number, string or boolean. The few keys RocketMQ does not have are marked.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export type FlushDiskType = 'ASYNC_FLUSH' | 'SYNC_FLUSH';
export type BrokerRole = 'ASYNC_MASTER' | 'SYNC_MASTER' | 'SLAVE';

export interface StoreConfig {
  [key: string]: string | number | boolean;
  /** Root of the store tree (§1.1). */
  storePathRootDir: string;
  /** CommitLog directory; empty means `<storePathRootDir>/commitlog`. */
  storePathCommitLog: string;
  /** Bytes per CommitLog segment file (1 GiB). */
  mappedFileSizeCommitLog: number;
  /** Bytes per ConsumeQueue file: 300 000 entries × 20 bytes. */
  mappedFileSizeConsumeQueue: number;
  flushDiskType: FlushDiskType;
  brokerRole: BrokerRole;
  /** SYNC_FLUSH: a put not durable after this many ms answers FLUSH_DISK_TIMEOUT. */
  syncFlushTimeout: number;
  /** ASYNC_FLUSH period (ms). */
  flushIntervalCommitLog: number;
  /** ASYNC_FLUSH: flush only when at least this many 4 KiB pages are dirty … */
  flushCommitLogLeastPages: number;
  /** … except at least this often (ms), when anything dirty is flushed. */
  flushCommitLogThoroughInterval: number;
  flushIntervalConsumeQueue: number;
  flushConsumeQueueLeastPages: number;
  flushConsumeQueueThoroughInterval: number;
  messageIndexEnable: boolean;
  /** Abnormal recovery re-dispatches back to the last completed index file too. */
  messageIndexSafe: boolean;
  maxHashSlotNum: number;
  maxIndexNum: number;
  /** Cap on `queryMessage` results. */
  maxMsgsNumBatch: number;
  /** Largest record accepted (4 MiB). */
  maxMessageSize: number;
  /** Hours a CommitLog file is kept after its last write. */
  fileReservedTime: number;
  /** Hours of day (local, `;`-separated) when expired files may be deleted. */
  deleteWhen: string;
  /** Percent of disk use above which expired files are deleted at any hour. */
  diskMaxUsedSpaceRatio: number;
  /** Percent above which the oldest files are deleted even if not expired (clamped 30–85). */
  diskSpaceCleanForciblyRatio: number;
  /** Percent above which the disk counts as full and puts are refused (clamped 35–90). */
  diskSpaceWarningLevelRatio: number;
  cleanFileForciblyEnable: boolean;
  /** Period of the retention task (ms); its first run is one period after start. */
  cleanResourceInterval: number;
  /** Pause between deleting two CommitLog files (ms). */
  deleteCommitLogFilesInterval: number;
  /** Pause between deleting two ConsumeQueue files (ms). */
  deleteConsumeQueueFilesInterval: number;
  /** Most CommitLog files deleted per retention run. */
  deleteFileBatchMax: number;
  /** Not in RocketMQ (4.9.8 hard-codes 10 s): period of the disk-full check (ms). */
  diskCheckInterval: number;
  /** Recovery checks every record's body CRC. */
  checkCRCOnRecover: boolean;
  /** A put arriving while one CommitLog write has been pending this long gets OS_PAGE_CACHE_BUSY. */
  osPageCacheBusyTimeOutMills: number;
  maxTransferBytesOnMessageInMemory: number;
  maxTransferCountOnMessageInMemory: number;
  maxTransferBytesOnMessageInDisk: number;
  maxTransferCountOnMessageInDisk: number;
  /** Percent of RAM behind the CommitLog end still considered "in memory" (page cache). */
  accessMessageInMemoryMaxRatio: number;
  /** Index bytes a pull scans at least when the tag filter skips entries. */
  maxFilterMessageCount: number;
  /** Delay levels; the store derives SCHEDULE_TOPIC_XXXX tag codes (delivery times) from them. */
  messageDelayLevel: string;
}

export function defaultStoreConfig(): StoreConfig {
  return {
    storePathRootDir: path.join(os.homedir(), 'store'),
    storePathCommitLog: '',
    mappedFileSizeCommitLog: 1024 * 1024 * 1024,
    mappedFileSizeConsumeQueue: 300_000 * 20,
    flushDiskType: 'ASYNC_FLUSH',
    brokerRole: 'ASYNC_MASTER',
    syncFlushTimeout: 5000,
    flushIntervalCommitLog: 500,
    flushCommitLogLeastPages: 4,
    flushCommitLogThoroughInterval: 10_000,
    flushIntervalConsumeQueue: 1000,
    flushConsumeQueueLeastPages: 2,
    flushConsumeQueueThoroughInterval: 60_000,
    messageIndexEnable: true,
    messageIndexSafe: false,
    maxHashSlotNum: 5_000_000,
    maxIndexNum: 20_000_000,
    maxMsgsNumBatch: 64,
    maxMessageSize: 4 * 1024 * 1024,
    fileReservedTime: 72,
    deleteWhen: '04',
    diskMaxUsedSpaceRatio: 75,
    diskSpaceCleanForciblyRatio: 85,
    diskSpaceWarningLevelRatio: 90,
    cleanFileForciblyEnable: true,
    cleanResourceInterval: 10_000,
    deleteCommitLogFilesInterval: 100,
    deleteConsumeQueueFilesInterval: 100,
    deleteFileBatchMax: 10,
    diskCheckInterval: 10_000,
    checkCRCOnRecover: true,
    osPageCacheBusyTimeOutMills: 1000,
    maxTransferBytesOnMessageInMemory: 256 * 1024,
    maxTransferCountOnMessageInMemory: 32,
    maxTransferBytesOnMessageInDisk: 64 * 1024,
    maxTransferCountOnMessageInDisk: 8,
    accessMessageInMemoryMaxRatio: 40,
    maxFilterMessageCount: 16_000,
    messageDelayLevel: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
  };
}

/** Directory paths derived from a config (§1.1). */
export interface StorePaths {
  root: string;
  commitLog: string;
  consumeQueue: string;
  index: string;
  checkpoint: string;
  abort: string;
  lock: string;
  config: string;
}

export function storePaths(config: StoreConfig): StorePaths {
  const root = config.storePathRootDir;
  return {
    root,
    commitLog: config.storePathCommitLog || path.join(root, 'commitlog'),
    consumeQueue: path.join(root, 'consumequeue'),
    index: path.join(root, 'index'),
    checkpoint: path.join(root, 'checkpoint'),
    abort: path.join(root, 'abort'),
    lock: path.join(root, 'lock'),
    config: path.join(root, 'config'),
  };
}

/** Thrown by `MessageStore.open` for a configuration or on-disk state it cannot start with. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** Checks the values the store divides by or sizes files with; throws StoreError. */
export function validateStoreConfig(config: StoreConfig): void {
  const positive: (keyof StoreConfig)[] = [
    'mappedFileSizeCommitLog',
    'mappedFileSizeConsumeQueue',
    'maxHashSlotNum',
    'maxIndexNum',
    'maxMessageSize',
    'syncFlushTimeout',
    'flushIntervalCommitLog',
    'flushIntervalConsumeQueue',
    'cleanResourceInterval',
    'diskCheckInterval',
  ];
  for (const key of positive) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new StoreError(`store config ${key} must be a positive integer, got ${String(v)}`);
    }
  }
  if (config.mappedFileSizeConsumeQueue % 20 !== 0) {
    throw new StoreError(
      `store config mappedFileSizeConsumeQueue must be a multiple of 20, got ${config.mappedFileSizeConsumeQueue}`,
    );
  }
  if (config.flushDiskType !== 'ASYNC_FLUSH' && config.flushDiskType !== 'SYNC_FLUSH') {
    throw new StoreError(`store config flushDiskType must be ASYNC_FLUSH or SYNC_FLUSH`);
  }
  if (config.mappedFileSizeCommitLog < 4096) {
    throw new StoreError('store config mappedFileSizeCommitLog must be at least 4096 bytes');
  }
  parseDelayLevels(config.messageDelayLevel);
}

const DELAY_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `"1s 5s … 2h"` → milliseconds per level (index 0 = level 1). */
export function parseDelayLevels(text: string): number[] {
  const levels: number[] = [];
  for (const token of text.trim().split(/\s+/)) {
    if (token === '') continue;
    const m = /^(\d+)([smhd])$/.exec(token);
    if (!m) throw new StoreError(`store config messageDelayLevel: bad level "${token}"`);
    levels.push(Number(m[1]) * DELAY_UNITS[m[2]]);
  }
  return levels;
}

/** `deleteWhen` ("04;05") contains the local hour of `now`. */
export function isDeleteHour(deleteWhen: string, now: Date): boolean {
  const hour = now.getHours();
  return deleteWhen.split(';').some((h) => h.trim() !== '' && Number(h) === hour);
}

/** The 5.x clamps of the two disk ratios, as fractions. */
export function diskRatios(config: StoreConfig): {
  maxUsed: number;
  forcibly: number;
  warning: number;
} {
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return {
    maxUsed: clamp(config.diskMaxUsedSpaceRatio, 10, 95) / 100,
    forcibly: clamp(config.diskSpaceCleanForciblyRatio, 30, 85) / 100,
    warning: clamp(config.diskSpaceWarningLevelRatio, 35, 90) / 100,
  };
}
