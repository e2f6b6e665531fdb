import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultMessageStore } from '../../../broker/store/default-message-store';
import { GetMessageStatus, PutMessageStatus } from '../../../broker/store';
import {
  FaultyIO,
  checkQueues,
  message,
  openStore,
  silent,
  smallConfig,
  tempStoreDir,
} from './store-fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('disk full and retention', () => {
  let tmp: ReturnType<typeof tempStoreDir>;
  beforeEach(() => (tmp = tempStoreDir()));
  afterEach(() => tmp.remove());

  it('fails appends clearly on ENOSPC, keeps what was stored, and recovers when space returns', async () => {
    const io = new FaultyIO();
    const config = smallConfig(tmp.dir);
    let store = await openStore(config, io);
    for (let i = 0; i < 10; i++) await store.putMessage(message('D', 0, `ok${i}`));
    const end = store.getMaxPhyOffset();

    // The disk fills up in the middle of a group write: part of it lands, then ENOSPC.
    io.errorCode = 'ENOSPC';
    io.failAfterBytes = 150;
    const failed = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.putMessage(message('D', 0, `lost${i}`))),
    );
    for (const r of failed) {
      expect(r.status).toBe(PutMessageStatus.SERVICE_NOT_AVAILABLE);
      expect(r.remark).toMatch(/ENOSPC/);
      expect(r.wroteOffset).toBe(-1);
    }
    expect(store.getMaxPhyOffset()).toBe(end);
    expect(store.getMaxOffsetInQueue('D', 0)).toBe(10);
    const stillThere = await store.getMessage({
      topic: 'D',
      queueId: 0,
      offset: 0,
      maxMsgNums: 32,
    });
    expect(stillThere.messages).toHaveLength(10);

    io.errorCode = undefined;
    const next = await store.putMessage(message('D', 0, 'after'));
    expect(next.status).toBe(PutMessageStatus.PUT_OK);
    expect([next.wroteOffset, next.logicsOffset]).toEqual([end, 10]);
    await store.shutdown();

    // Nothing of the failed writes comes back at restart.
    store = await openStore(config);
    const counts = await checkQueues(store, [{ topic: 'D', queueId: 0 }]);
    expect(counts.get('D/0')).toBe(11);
    expect(store.getMaxPhyOffset()).toBe(next.wroteOffset + next.wroteBytes);
    await store.shutdown();
  });

  it('reports other write errors as UNKNOWN_ERROR', async () => {
    const io = new FaultyIO();
    const store = await openStore(smallConfig(tmp.dir), io);
    io.errorCode = 'EIO';
    const r = await store.putMessage(message('E', 0, 'x'));
    expect(r.status).toBe(PutMessageStatus.UNKNOWN_ERROR);
    io.errorCode = undefined;
    expect((await store.putMessage(message('E', 0, 'y'))).logicsOffset).toBe(0);
    await store.shutdown();
  });

  it('refuses puts above the warning ratio, cleans forcibly, and accepts again below it', async () => {
    const io = new FaultyIO();
    const store = (await openStore(
      smallConfig(tmp.dir, { diskCheckInterval: 20 }),
      io,
    )) as DefaultMessageStore;
    for (let i = 0; i < 200; i++) {
      await store.putMessage(message('W', 0, Buffer.alloc(1000, i)));
    }
    const filesBefore = readdirSync(join(tmp.dir, 'commitlog')).length;
    io.usage = { total: 1000, free: 50 };
    await sleep(100);
    const refused = await store.putMessage(message('W', 0, 'x'));
    expect(refused.status).toBe(PutMessageStatus.SERVICE_NOT_AVAILABLE);
    expect(refused.remark).toMatch(/disk full/);
    // Reads go on.
    expect(
      (await store.getMessage({ topic: 'W', queueId: 0, offset: 199, maxMsgNums: 1 })).messages,
    ).toHaveLength(1);

    // Above the forcible ratio the oldest files go even though they are young.
    const deleted = await store.cleanExpiredFiles(new Date(), false);
    expect(deleted).toBeGreaterThan(0);
    expect(readdirSync(join(tmp.dir, 'commitlog')).length).toBe(filesBefore - deleted);
    expect(store.getMinPhyOffset()).toBe(deleted * 65536);
    expect(store.getMinOffsetInQueue('W', 0)).toBeGreaterThan(0);
    const old = await store.getMessage({ topic: 'W', queueId: 0, offset: 0, maxMsgNums: 1 });
    expect(old.status).toBe(GetMessageStatus.OFFSET_TOO_SMALL);

    io.usage = { total: 1000, free: 600 };
    await sleep(100);
    expect((await store.putMessage(message('W', 0, 'y'))).status).toBe(PutMessageStatus.PUT_OK);
    await store.shutdown();
  });

  it('deletes expired files only at deleteWhen or when space is short, never the active one', async () => {
    const config = smallConfig(tmp.dir, { fileReservedTime: 1, deleteFileBatchMax: 2 });
    const store = (await openStore(config)) as DefaultMessageStore;
    for (let i = 0; i < 300; i++) {
      await store.putMessage(message('X', i % 2, Buffer.alloc(1000, i), { KEYS: `k${i}` }));
    }
    const dir = join(tmp.dir, 'commitlog');
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(4);
    const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
    for (const f of files) utimesSync(join(dir, f), twoHoursAgo, twoHoursAgo);

    const now = new Date();
    const otherHour = String((now.getHours() + 12) % 24).padStart(2, '0');
    const thisHour = String(now.getHours()).padStart(2, '0');
    (config as { deleteWhen: string }).deleteWhen = otherHour;
    expect(await store.cleanExpiredFiles(now, false)).toBe(0);

    (config as { deleteWhen: string }).deleteWhen = `${otherHour};${thisHour}`;
    expect(await store.cleanExpiredFiles(now, false)).toBe(2); // deleteFileBatchMax
    while ((await store.cleanExpiredFiles(now, false)) > 0);
    // Left: the active file (and the next one, preallocated but still empty).
    const active = store.getMaxPhyOffset() - (store.getMaxPhyOffset() % 65536);
    expect(readdirSync(dir).sort()[0]).toBe(String(active).padStart(20, '0'));
    expect(store.getMinPhyOffset()).toBe(active);

    const min0 = store.getMinOffsetInQueue('X', 0);
    const got = await store.getMessage({ topic: 'X', queueId: 0, offset: min0, maxMsgNums: 1 });
    expect(got.status).toBe(GetMessageStatus.FOUND);
    const counts = await checkQueues(store, [
      { topic: 'X', queueId: 0 },
      { topic: 'X', queueId: 1 },
    ]);
    expect([...counts.values()].every((n) => n > 0)).toBe(true);
    expect((await store.putMessage(message('X', 0, 'z'))).logicsOffset).toBe(150);
    await store.shutdown();
    // The consume queue files that only pointed into deleted segments are gone too.
    expect(readdirSync(join(tmp.dir, 'consumequeue', 'X', '0')).length).toBeLessThan(3);
  });

  it('does not touch unexpired files on schedule', async () => {
    const store = (await openStore(smallConfig(tmp.dir))) as DefaultMessageStore;
    for (let i = 0; i < 150; i++) await store.putMessage(message('Y', 0, Buffer.alloc(1000)));
    expect(await store.cleanExpiredFiles(new Date(), true)).toBe(0);
    await store.shutdown();
    expect(silent.level).toBe('silent');
  });
});

describe('flush modes', () => {
  let tmp: ReturnType<typeof tempStoreDir>;
  beforeEach(() => (tmp = tempStoreDir()));
  afterEach(() => tmp.remove());

  it('SYNC_FLUSH answers FLUSH_DISK_TIMEOUT when the sync is slower than syncFlushTimeout, and the message stays stored', async () => {
    const io = new FaultyIO();
    const store = await openStore(
      smallConfig(tmp.dir, { flushDiskType: 'SYNC_FLUSH', syncFlushTimeout: 50 }),
      io,
    );
    const fast = await store.putMessage(message('S', 0, 'fast'));
    expect(fast.status).toBe(PutMessageStatus.PUT_OK);
    io.syncDelayMs = 300;
    const slow = await store.putMessage(message('S', 0, 'slow'));
    expect(slow.status).toBe(PutMessageStatus.FLUSH_DISK_TIMEOUT);
    expect(slow.logicsOffset).toBe(1);
    // WAIT=false does not wait for the sync at all.
    const noWait = await store.putMessage(message('S', 0, 'nowait', { WAIT: 'false' }));
    expect(noWait.status).toBe(PutMessageStatus.PUT_OK);
    io.syncDelayMs = 0;
    await sleep(400);
    const got = await store.getMessage({ topic: 'S', queueId: 0, offset: 0, maxMsgNums: 10 });
    expect(got.messages).toHaveLength(3);
    await store.shutdown();
  });

  it('ASYNC_FLUSH makes appends durable in the background', async () => {
    const store = await openStore(
      smallConfig(tmp.dir, { flushIntervalCommitLog: 20, flushCommitLogLeastPages: 0 }),
    );
    await store.putMessage(message('A', 0, Buffer.alloc(5000)));
    for (let i = 0; i < 50 && store.runtimeInfo().remainHowManyDataToFlush !== '0'; i++)
      await sleep(20);
    expect(store.runtimeInfo().remainHowManyDataToFlush).toBe('0');
    await store.shutdown();
  });

  it('answers OS_PAGE_CACHE_BUSY while a CommitLog write hangs', async () => {
    const io = new FaultyIO();
    const store = await openStore(smallConfig(tmp.dir, { osPageCacheBusyTimeOutMills: 30 }), io);
    io.writeDelayMs = 200;
    const stuck = store.putMessage(message('P', 0, 'stuck'));
    await sleep(100);
    const busy = await store.putMessage(message('P', 0, 'busy'));
    expect(busy.status).toBe(PutMessageStatus.OS_PAGE_CACHE_BUSY);
    io.writeDelayMs = 0;
    expect((await stuck).status).toBe(PutMessageStatus.PUT_OK);
    expect((await store.putMessage(message('P', 0, 'ok'))).logicsOffset).toBe(1);
    await store.shutdown();
  });
});
