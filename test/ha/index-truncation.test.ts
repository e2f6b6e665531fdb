/**
 * A rejoining slave cuts its CommitLog where its history diverged from the master's; the index
 * must forget the cut messages (other messages are written at those offsets next) and index
 * what is written there afterwards.
 */
import { type MessageStore, PutMessageStatus } from '../../broker/store';
import { decodeRecord } from '../../common/message/record';
import { message, openStore, smallConfig, tempStoreDir } from '../broker/store/store-fixtures';

const FOREVER = Date.now() + 3_600_000;

async function bodiesByKey(store: MessageStore, key: string): Promise<string[]> {
  const r = await store.queryMessage('T', key, 32, 0, FOREVER);
  return r.messages.map((m) => decodeRecord(m).body.toString()).sort();
}

describe('index after a CommitLog truncation', () => {
  const tmp = tempStoreDir();
  // 300 entries per index file: 1000 messages fill three files and start a fourth.
  const config = smallConfig(tmp.dir, {
    maxIndexNum: 300,
    maxHashSlotNum: 64,
    maxMsgsNumBatch: 1000,
  });
  let store: MessageStore | undefined;

  afterAll(async () => {
    await store?.shutdown();
    tmp.remove();
  });

  it('serves no entry at or past the cut, and indexes what is written there next', async () => {
    store = await openStore(config);
    const offsets: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = await store.putMessage(message('T', i % 4, `old ${i}`, { KEYS: `k${i} all` }));
      expect(r.status).toBe(PutMessageStatus.PUT_OK);
      offsets.push(r.wroteOffset);
    }
    await store.lastCompleteRecordEnd();
    expect(await bodiesByKey(store, 'k700')).toEqual(['old 700']);

    // The cut lands in a sealed file (the second); the files after it hold only cut entries.
    await store.truncateCommitLog(offsets[450]);
    for (const i of [449, 450, 700, 999]) {
      expect(await bodiesByKey(store, `k${i}`)).toEqual(i < 450 ? [`old ${i}`] : []);
    }
    // Other messages at the same offsets (what the new master has there), some under old keys.
    const newOffsets: number[] = [];
    for (let i = 0; i < 300; i++) {
      const key = i % 2 === 0 ? `n${i}` : `k${450 + i}`;
      const r = await store.putMessage(message('T', i % 4, `new ${i}`, { KEYS: key }));
      expect(r.status).toBe(PutMessageStatus.PUT_OK);
      newOffsets.push(r.wroteOffset);
    }
    await store.lastCompleteRecordEnd();
    const check = async (s: MessageStore) => {
      expect(await bodiesByKey(s, 'k10')).toEqual(['old 10']);
      expect(await bodiesByKey(s, 'k449')).toEqual(['old 449']);
      expect(await bodiesByKey(s, 'k450')).toEqual([]);
      expect(await bodiesByKey(s, 'k451')).toEqual(['new 1']);
      expect(await bodiesByKey(s, 'n298')).toEqual(['new 298']);
      expect(await bodiesByKey(s, 'k900')).toEqual([]);
      const all = await s.queryMessage('T', 'all', 1000, 0, FOREVER);
      expect(all.messages.length).toBe(450);
    };
    await check(store);
    // The same after a restart: what was removed stays removed on disk.
    await store.shutdown();
    store = await openStore(config);
    await check(store);
    // A cut inside the file still being filled.
    await store.truncateCommitLog(newOffsets[250]);
    expect(await bodiesByKey(store, 'n248')).toEqual(['new 248']);
    expect(await bodiesByKey(store, 'n250')).toEqual([]);
    const r = await store.putMessage(message('T', 0, 'after', { KEYS: 'n250' }));
    expect(r.wroteOffset).toBe(newOffsets[250]);
    await store.lastCompleteRecordEnd();
    expect(await bodiesByKey(store, 'n250')).toEqual(['after']);
  });
});
