import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { LatencyHistogram } from './stats/latency-histogram';

/** What the disk under the benchmark's data directory can do, measured in this run. */
export interface MachineBaseline {
  dir: string;
  /** Sequential 1 MiB writes into the page cache, MiB/s: until the last write returned. */
  bufferedWriteMiBps: number;
  /** The same writes until an fdatasync after them returned (what the disk takes), MiB/s. */
  diskWriteMiBps: number;
  /** 4 KiB write + fdatasync, one at a time, into a preallocated file. */
  fdatasyncPerSec: number;
  fdatasyncP50Ms: number;
  fdatasyncP99Ms: number;
}

export interface MachineOptions {
  /** Upper bound on the bytes written by the bandwidth test. */
  writeBytes: number;
  /** Upper bound on the time of each test. */
  testMs: number;
}

export const DEFAULT_MACHINE_OPTIONS: MachineOptions = { writeBytes: 1 << 30, testMs: 3000 };
const CHUNK = 1 << 20;
const SYNC_BLOCK = 4096;
/** Writes land inside this preallocated area, like appends to a RocketMQ mapped file. */
const SYNC_FILE_BYTES = 64 << 20;

/**
 * Measures the disk where `dir` lives. Synchronous file I/O on purpose: nothing else runs in
 * this process meanwhile, and it keeps the event loop out of the numbers.
 */
export function measureMachine(
  dir: string,
  options: MachineOptions = DEFAULT_MACHINE_OPTIONS,
): MachineBaseline {
  const work = mkdtempSync(join(dir, 'machine-'));
  try {
    const sync = fdatasyncRate(join(work, 'fdatasync'), options.testMs);
    const write = sequentialWrite(join(work, 'sequential'), options.writeBytes, options.testMs);
    return {
      dir,
      bufferedWriteMiBps: write.bytes / CHUNK / write.pageCacheSeconds,
      diskWriteMiBps: write.bytes / CHUNK / write.diskSeconds,
      ...sync,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One run of {@link sequentialWrite}. */
export interface SequentialWrite {
  bytes: number;
  /** From the first write until the last one returned (the page cache took the bytes). */
  pageCacheSeconds: number;
  /** From the first write until an fdatasync after the last one returned (on the disk). */
  diskSeconds: number;
}

/**
 * The raw buffered sequential write: 1 MiB `write`s of random bytes into a new file at `path`
 * until `maxBytes` (or `maxMs`), then one fdatasync, the way `dd bs=1M conv=fdatasync` measures
 * a disk. The file is removed afterwards.
 */
export function sequentialWrite(path: string, maxBytes: number, maxMs = Infinity): SequentialWrite {
  const chunk = randomBytes(CHUNK);
  const fd = openSync(path, 'w');
  try {
    const start = performance.now();
    let bytes = 0;
    while (bytes < maxBytes && performance.now() - start < maxMs) {
      bytes += writeSync(fd, chunk, 0, Math.min(CHUNK, maxBytes - bytes));
    }
    const written = performance.now();
    fdatasyncSync(fd);
    const synced = performance.now();
    return {
      bytes,
      pageCacheSeconds: (written - start) / 1000,
      diskSeconds: (synced - start) / 1000,
    };
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

function fdatasyncRate(
  path: string,
  testMs: number,
): Pick<MachineBaseline, 'fdatasyncPerSec' | 'fdatasyncP50Ms' | 'fdatasyncP99Ms'> {
  const fd = openSync(path, 'w');
  try {
    const zeros = Buffer.alloc(CHUNK);
    for (let at = 0; at < SYNC_FILE_BYTES; at += CHUNK) writeSync(fd, zeros, 0, CHUNK, at);
    fdatasyncSync(fd);
    const block = randomBytes(SYNC_BLOCK);
    const latency = new LatencyHistogram();
    const start = performance.now();
    let position = 0;
    let ops = 0;
    while (performance.now() - start < testMs) {
      const t0 = performance.now();
      writeSync(fd, block, 0, SYNC_BLOCK, position);
      fdatasyncSync(fd);
      latency.record(performance.now() - t0);
      position = (position + SYNC_BLOCK) % SYNC_FILE_BYTES;
      ops++;
    }
    const seconds = (performance.now() - start) / 1000;
    return {
      fdatasyncPerSec: ops / seconds,
      fdatasyncP50Ms: latency.percentile(50),
      fdatasyncP99Ms: latency.percentile(99),
    };
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}

export function formatMachine(m: MachineBaseline): string {
  return (
    `machine (disk under ${m.dir}): sequential buffered write ${m.bufferedWriteMiBps.toFixed(0)} MiB/s ` +
    `(${m.diskWriteMiBps.toFixed(0)} MiB/s to disk, with an fdatasync at the end); ` +
    `4 KiB write + fdatasync ${m.fdatasyncPerSec.toFixed(0)}/s ` +
    `(p50 ${m.fdatasyncP50Ms.toFixed(2)} ms, p99 ${m.fdatasyncP99Ms.toFixed(2)} ms)`
  );
}

if (require.main === module) {
  const dir = process.argv[2] ?? tmpdir();
  const baseline = measureMachine(dir);
  process.stdout.write(`${formatMachine(baseline)}\n${JSON.stringify({ machine: baseline })}\n`);
}
