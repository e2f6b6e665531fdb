import { closeSync, openSync, readdirSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord } from '../../../common/message/record';
import { type PutMessageResult, PutMessageStatus } from '../../../broker/store';
import { checkQueues, message, openStore, smallConfig, tempStoreDir } from './store-fixtures';

/** Overwrites `bytes` at `position` of a file (the file keeps its size). */
function overwrite(file: string, position: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, position);
  } finally {
    closeSync(fd);
  }
}

function segmentOf(dir: string, offset: number, fileSize: number): string {
  return join(dir, String(offset - (offset % fileSize)).padStart(20, '0'));
}

describe('store recovery', () => {
  let tmp: ReturnType<typeof tempStoreDir>;
  beforeEach(() => (tmp = tempStoreDir()));
  afterEach(() => tmp.remove());

  /** Fills two queues across several segments; returns the put results in order. */
  async function fill(n: number): Promise<PutMessageResult[]> {
    const store = await openStore(smallConfig(tmp.dir));
    const results: PutMessageResult[] = [];
    for (let i = 0; i < n; i++) {
      results.push(
        await store.putMessage(message('R', i % 2, Buffer.alloc(700 + i, i & 0xff), { TAGS: 't' })),
      );
    }
    await store.shutdown();
    return results;
  }

  for (const crashed of [false, true]) {
    const mode = crashed ? 'after a crash (abort file)' : 'after a clean stop';
    it(`cuts a torn last record and its queue entry ${mode}`, async () => {
      const results = await fill(200);
      const last = results[results.length - 1];
      // A torn write: the second half of the last record never reached the disk.
      const half = Math.floor(last.wroteBytes / 2);
      overwrite(
        segmentOf(join(tmp.dir, 'commitlog'), last.wroteOffset, 65536),
        (last.wroteOffset % 65536) + half,
        Buffer.alloc(last.wroteBytes - half),
      );
      if (crashed) writeFileSync(join(tmp.dir, 'abort'), '1');
      const store = await openStore(smallConfig(tmp.dir));
      expect(store.getMaxPhyOffset()).toBe(last.wroteOffset);
      expect(await store.lookMessageByOffset(last.wroteOffset)).toBeUndefined();
      const counts = await checkQueues(store, [
        { topic: 'R', queueId: 0 },
        { topic: 'R', queueId: 1 },
      ]);
      expect([...counts.values()]).toEqual([100, 99]);
      // The freed queue offset and CommitLog position are used again.
      const again = await store.putMessage(message('R', 1, 'again'));
      expect([again.wroteOffset, again.logicsOffset]).toEqual([last.wroteOffset, 99]);
      await store.shutdown();
    });
  }

  it('stops at a scribbled record (bad CRC) and drops everything after it', async () => {
    const results = await fill(120);
    const victim = results[110];
    // Flip body bytes: lengths still add up, the CRC does not.
    overwrite(
      segmentOf(join(tmp.dir, 'commitlog'), victim.wroteOffset, 65536),
      (victim.wroteOffset % 65536) + 100,
      Buffer.from('garbage!'),
    );
    writeFileSync(join(tmp.dir, 'abort'), '1');
    const store = await openStore(smallConfig(tmp.dir));
    expect(store.getMaxPhyOffset()).toBe(victim.wroteOffset);
    const counts = await checkQueues(store, [
      { topic: 'R', queueId: 0 },
      { topic: 'R', queueId: 1 },
    ]);
    expect([...counts.values()]).toEqual([55, 55]);
    await store.shutdown();
  });

  it('re-derives consume queue entries lost in a crash', async () => {
    const results = await fill(150);
    // The last three entries of queue 0 never reached the file.
    const cqDir = join(tmp.dir, 'consumequeue', 'R', '0');
    const files = readdirSync(cqDir).sort();
    const lastFile = join(cqDir, files[files.length - 1]);
    const entries = 75 - Number(files[files.length - 1]) / 20;
    overwrite(lastFile, (entries - 3) * 20, Buffer.alloc(60));
    // And a half-written entry at the end of queue 1: offset intact, size/tag code torn.
    const cq1 = join(tmp.dir, 'consumequeue', 'R', '1');
    const files1 = readdirSync(cq1).sort();
    const entries1 = 75 - Number(files1[files1.length - 1]) / 20;
    overwrite(join(cq1, files1[files1.length - 1]), (entries1 - 1) * 20 + 10, Buffer.alloc(10));
    writeFileSync(join(tmp.dir, 'abort'), '1');
    const store = await openStore(smallConfig(tmp.dir));
    const counts = await checkQueues(store, [
      { topic: 'R', queueId: 0 },
      { topic: 'R', queueId: 1 },
    ]);
    expect([...counts.values()]).toEqual([75, 75]);
    const lastRecord = (await store.lookMessageByOffset(results[149].wroteOffset))!;
    expect(decodeRecord(lastRecord).queueOffset).toBe(74);
    expect((await store.putMessage(message('R', 0, 'n'))).logicsOffset).toBe(75);
    await store.shutdown();
  });

  it('ignores garbage past the last record in a fresh file', async () => {
    const results = await fill(30);
    const end = results[29].wroteOffset + results[29].wroteBytes;
    // Bytes that look like a record header but are not one.
    const junk = Buffer.alloc(64, 0x5a);
    junk.writeInt32BE(64, 0);
    junk.writeInt32BE(-626843481, 4);
    overwrite(segmentOf(join(tmp.dir, 'commitlog'), end, 65536), end % 65536, junk);
    writeFileSync(join(tmp.dir, 'abort'), '1');
    const store = await openStore(smallConfig(tmp.dir));
    expect(store.getMaxPhyOffset()).toBe(end);
    const r = await store.putMessage(message('R', 0, 'next'));
    expect(r.status).toBe(PutMessageStatus.PUT_OK);
    expect(r.wroteOffset).toBe(end);
    await store.shutdown();
  });

  it('deletes the empty files a crash left at the end (current and preallocated next)', async () => {
    const results = await fill(30);
    const end = results[29].wroteOffset + results[29].wroteBytes;
    const commitlog = join(tmp.dir, 'commitlog');
    const next = end - (end % 65536) + 65536;
    // Created but not yet sized when the process died: the next file and the one after it.
    writeFileSync(join(commitlog, String(next).padStart(20, '0')), '');
    writeFileSync(join(commitlog, String(next + 65536).padStart(20, '0')), '');
    writeFileSync(join(tmp.dir, 'abort'), '1');
    const store = await openStore(smallConfig(tmp.dir));
    expect(store.getMaxPhyOffset()).toBe(end);
    const counts = await checkQueues(store, [
      { topic: 'R', queueId: 0 },
      { topic: 'R', queueId: 1 },
    ]);
    expect(counts.get('R/0')! + counts.get('R/1')!).toBe(30);
    expect((await store.putMessage(message('R', 0, 'next'))).status).toBe(PutMessageStatus.PUT_OK);
    await store.shutdown();
  });

  it('finishes a truncation a crash interrupted (short last queue file)', async () => {
    await fill(60);
    const cqDir = join(tmp.dir, 'consumequeue', 'R', '0');
    const files = readdirSync(cqDir).sort();
    truncateSync(join(cqDir, files[files.length - 1]), 100);
    writeFileSync(join(tmp.dir, 'abort'), '1');
    const store = await openStore(smallConfig(tmp.dir));
    const counts = await checkQueues(store, [{ topic: 'R', queueId: 0 }]);
    expect(counts.get('R/0')).toBe(30);
    await store.shutdown();
  });

  it('rolls index files and finds keys in old ones, also after a crash', async () => {
    const config = smallConfig(tmp.dir, { maxIndexNum: 40, maxHashSlotNum: 16 });
    let store = await openStore(config);
    for (let i = 0; i < 100; i++) {
      await store.putMessage(message('I', 0, `m${i}`, { KEYS: `key${i}` }));
    }
    await new Promise((r) => setTimeout(r, 50)); // full files are sealed in the background
    expect(readdirSync(join(tmp.dir, 'index')).length).toBeGreaterThanOrEqual(3);
    const body = async (key: string) =>
      (await store.queryMessage('I', key, 32, 0, Date.now() + 1000)).messages.map((m) =>
        decodeRecord(m).body.toString(),
      );
    expect(await body('key3')).toEqual(['m3']);
    expect(await body('key97')).toEqual(['m97']);
    await store.shutdown();
    writeFileSync(join(tmp.dir, 'abort'), '1');
    store = await openStore(config);
    expect(await body('key3')).toEqual(['m3']);
    expect(await body('key97')).toEqual(['m97']);
    await store.shutdown();
  });
});
