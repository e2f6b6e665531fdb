/**
 * The CommitLog reuses the buffers of chunks leaving its tail cache for new appends. Whatever a
 * reader was handed from the cache (a pull, a replication read, a lookup by offset) must keep
 * its bytes after that: this test holds such reads while 48 MiB more are appended (the cache
 * keeps 32 MiB in 4 MiB chunks), then compares them with the stored originals.
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
