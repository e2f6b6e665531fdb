/**
 * The CommitLog's in-memory caches must never show a reader other bytes than the stored ones:
 * - the tail cache reuses the buffers of chunks leaving it for new appends, so whatever a reader
 *   was handed from it (a pull, a replication read, a lookup by offset) must keep its bytes: the
 *   first test holds such reads while 48 MiB more are appended (the cache keeps 32 MiB in 4 MiB
 *   chunks), then compares them with the stored originals;
 * - the CommitLog's read-ahead blocks and each ConsumeQueue's read-ahead entries keep older data
 *   for pulls, so a truncation must drop them.
 */
import { randomBytes } from 'node:crypto';
import { decodeRecord } from '../../../common/message/record';
import type { MessageStore } from '../../../broker/store';
import { message, openStore, smallConfig, tempStoreDir } from './store-fixtures';

const MiB = 1024 * 1024;

describe('message store: reads from the tail cache', () => {
  let tmp: ReturnType<typeof tempStoreDir>;
  let store: MessageStore;

  beforeEach(async () => {
    tmp = tempStoreDir();
    // Files large enough for full-size (4 MiB) write chunks, the ones that are reused.
    store = await openStore(smallConfig(tmp.dir, { mappedFileSizeCommitLog: 64 * MiB }));
  });

  afterEach(async () => {
    await store.shutdown();
    tmp.remove();
  });

  it('keep their bytes while the cache’s buffers are reused for new appends', async () => {
    const body = randomBytes(4096);
    const put = await store.putMessage(message('Held', 0, body, { KEYS: 'held' }));
    expect(put.status).toBe('PUT_OK');
    const pulled = await store.getMessage({ topic: 'Held', queueId: 0, offset: 0, maxMsgNums: 1 });
    const replicated = await store.getCommitLogData(put.wroteOffset, put.wroteBytes);
    const looked = await store.lookMessageByOffset(put.wroteOffset);
    expect(pulled.messages).toHaveLength(1);
    const original = Buffer.from(pulled.messages[0]);
    expect(replicated?.equals(original)).toBe(true);
    expect(looked?.equals(original)).toBe(true);

    const filler = Buffer.alloc(64 * 1024, 0x5a);
    for (let i = 0; i < (48 * MiB) / filler.length; i++) {
      const r = await store.putMessage(message('Filler', i % 4, filler));
      expect(r.status).toBe('PUT_OK');
    }

    expect(pulled.messages[0].equals(original)).toBe(true);
    expect(replicated?.equals(original)).toBe(true);
    expect(looked?.equals(original)).toBe(true);
    expect(decodeRecord(pulled.messages[0]).body.equals(body)).toBe(true);
    // The dispatcher read its views of those chunks in time: every filler message is queued.
    const queued = [0, 1, 2, 3].map((q) => store.getMaxOffsetInQueue('Filler', q));
    expect(queued.reduce((a, b) => a + b)).toBe((48 * MiB) / filler.length);
  });
});

describe('message store: pulls of older data (read-ahead cache)', () => {
  it('return what is stored now after the CommitLog was cut and written again', async () => {
    const tmp = tempStoreDir();
    // 1 MiB files and read-ahead blocks; the tail cache (32 MiB) is left behind by restarting.
    const config = smallConfig(tmp.dir, { mappedFileSizeCommitLog: MiB });
    let store = await openStore(config);
    try {
      const ends: number[] = [];
      for (let i = 0; i < 600; i++) {
        const r = await store.putMessage(message('T', i % 3, `old ${i} ${'o'.repeat(2000)}`));
        ends.push(r.wroteOffset + r.wroteBytes);
      }
      await store.shutdown();
      store = await openStore(config);
      const pullBodies = async (queueId: number, count: number) => {
        const got = await store.getMessage({ topic: 'T', queueId, offset: 0, maxMsgNums: count });
        return got.messages.map((m) => decodeRecord(m).body.toString().split(' ', 2).join(' '));
      };
      // Every queue read through the same blocks.
      expect(await pullBodies(0, 3)).toEqual(['old 0', 'old 3', 'old 6']);
      expect(await pullBodies(1, 3)).toEqual(['old 1', 'old 4', 'old 7']);

      // Cut after message 2 (as a returning old master does) and write other, shorter messages
      // there: no record of the old queues' entries starts where a new one does.
      await store.truncateCommitLog(ends[2]);
      for (let i = 0; i < 600; i++) {
        const r = await store.putMessage(message('T', i % 3, `new ${i} ${'n'.repeat(1500)}`));
        expect(r.status).toBe('PUT_OK');
      }
      // Push the rewritten bytes out of the tail cache, so the pull reads the files again.
      const filler = Buffer.alloc(60 * 1024, 0x5a);
      for (let i = 0; i < (40 * MiB) / filler.length; i++) {
        await store.putMessage(message('Filler', 0, filler));
      }
      expect(await pullBodies(0, 3)).toEqual(['old 0', 'new 0', 'new 3']);
      expect(await pullBodies(1, 3)).toEqual(['old 1', 'new 1', 'new 4']);
    } finally {
      await store.shutdown();
      tmp.remove();
    }
  });
});
