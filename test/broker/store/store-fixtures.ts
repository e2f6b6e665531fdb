/**
 * Shared pieces of the store tests: temp store directories, small-file configs, messages, a
 * StoreIO that fails on demand, and a consistency check of a store's queues against its
 * CommitLog.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../common/logger';
import { encodeProperties } from '../../../common/message/properties';
import { checkRecord, decodeRecord } from '../../../common/message/record';
import { createMessageStore, defaultStoreConfig, nodeStoreIO } from '../../../broker/store';
import type { MessageStore, MessageToStore, StoreConfig, StoreIO } from '../../../broker/store';

export const silent = createLogger('store-test', 'silent');

export function tempStoreDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'store-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Small files so rollover and retention happen with little data; timers far apart. */
export function smallConfig(dir: string, overrides: Partial<StoreConfig> = {}): StoreConfig {
  return {
    ...defaultStoreConfig(),
    storePathRootDir: dir,
    mappedFileSizeCommitLog: 64 * 1024,
    mappedFileSizeConsumeQueue: 100 * 20,
    maxHashSlotNum: 1000,
    maxIndexNum: 4000,
    flushIntervalCommitLog: 50,
    flushIntervalConsumeQueue: 100,
    ...overrides,
  } as StoreConfig;
}

export async function openStore(
  config: StoreConfig,
  io: StoreIO = nodeStoreIO,
): Promise<MessageStore> {
  const store = createMessageStore(config, { logger: silent, io });
  await store.start();
  return store;
}

export function message(
  topic: string,
  queueId: number,
  body: string | Buffer,
  props: Record<string, string> = {},
  sysFlag = 0,
): MessageToStore {
  return {
    topic,
    queueId,
    flag: 7,
    sysFlag,
    bornTimestamp: 1_700_000_000_000,
    bornHost: { ip: '10.0.0.5', port: 50000 },
    storeHost: { ip: '127.0.0.1', port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    properties: encodeProperties(props),
  };
}

/** The node StoreIO, with writes failing with `errorCode` while it is set, and a fake disk usage. */
export class FaultyIO implements StoreIO {
  errorCode: string | undefined;
  /** Fail only after this many more bytes were written (a short write, then the error). */
  failAfterBytes = 0;
  usage: { total: number; free: number } | undefined;

  /** Every fdatasync takes this much longer (a slow disk). */
  syncDelayMs = 0;
  /** Every write takes this much longer (a stalled page cache). */
  writeDelayMs = 0;

  open = nodeStoreIO.open;
  close = nodeStoreIO.close;
  read = nodeStoreIO.read;
  ftruncate = nodeStoreIO.ftruncate;
  size = nodeStoreIO.size;

  async write(
    fd: number,
    buf: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<number> {
    if (this.writeDelayMs > 0) await new Promise((r) => setTimeout(r, this.writeDelayMs));
    if (this.errorCode !== undefined) {
      if (this.failAfterBytes > 0) {
        const n = await nodeStoreIO.write(
          fd,
          buf,
          offset,
          Math.min(length, this.failAfterBytes),
          position,
        );
        this.failAfterBytes -= n;
        return n;
      }
      const err = new Error(`${this.errorCode}: injected write failure`) as NodeJS.ErrnoException;
      err.code = this.errorCode;
      throw err;
    }
    return nodeStoreIO.write(fd, buf, offset, length, position);
  }

  async fdatasync(fd: number): Promise<void> {
    if (this.syncDelayMs > 0) await new Promise((r) => setTimeout(r, this.syncDelayMs));
    return nodeStoreIO.fdatasync(fd);
  }

  diskUsage(path: string): Promise<{ total: number; free: number }> {
    return this.usage !== undefined ? Promise.resolve(this.usage) : nodeStoreIO.diskUsage(path);
  }
}

/**
 * Reads every queue through the store and checks each entry against the record it points to:
 * a whole record with a good CRC, the queue's topic and id, and its own queue offset. Returns
 * the number of messages per queue.
 */
export async function checkQueues(
  store: MessageStore,
  queues: { topic: string; queueId: number }[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { topic, queueId } of queues) {
    const min = store.getMinOffsetInQueue(topic, queueId);
    const max = store.getMaxOffsetInQueue(topic, queueId);
    let offset = min;
    while (offset < max) {
      const r = await store.getMessage({ topic, queueId, offset, maxMsgNums: 64 });
      if (r.messages.length === 0)
        throw new Error(`no message at ${topic}/${queueId}@${offset}: ${r.status}`);
      for (const buf of r.messages) {
        if (checkRecord(buf, 0, buf.length, true) !== buf.length) {
          throw new Error(`corrupt record served at ${topic}/${queueId}@${offset}`);
        }
        const rec = decodeRecord(buf);
        if (rec.topic !== topic || rec.queueId !== queueId || rec.queueOffset !== offset) {
          throw new Error(
            `queue ${topic}/${queueId}@${offset} points at ${rec.topic}/${rec.queueId}@${rec.queueOffset}`,
          );
        }
        offset++;
      }
      if (r.nextBeginOffset !== offset)
        throw new Error(`nextBeginOffset ${r.nextBeginOffset} != ${offset}`);
    }
    counts.set(`${topic}/${queueId}`, max - min);
  }
  return counts;
}

/** The body of message `i` of crash-test run `run`: 40–700 bytes, reproducible from the pair. */
export function crashBody(run: number, i: number): Buffer {
  const length = 40 + ((run * 7919 + i * 104729) % 661);
  const body = Buffer.allocUnsafe(length);
  for (let k = 0; k < length; k++) body[k] = (run * 31 + i * 7 + k) & 0xff;
  return body;
}

/** The store config of the crash test: SYNC_FLUSH, small files. */
export function crashConfig(dir: string): StoreConfig {
  return smallConfig(dir, {
    flushDiskType: 'SYNC_FLUSH',
    mappedFileSizeCommitLog: 256 * 1024,
    mappedFileSizeConsumeQueue: 500 * 20,
  });
}
