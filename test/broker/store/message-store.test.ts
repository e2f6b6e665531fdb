import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { javaStringHash } from '../../../common/message/java-hash';
import { createOffsetMsgId } from '../../../common/message/message-id';
import { decodeRecord, RecordOffset } from '../../../common/message/record';
import { MessageSysFlag } from '../../../common/message/sysflag';
import {
  GetMessageStatus,
  type MessageStore,
  PutMessageStatus,
  StoreError,
} from '../../../broker/store';
import { checkQueues, message, openStore, smallConfig, tempStoreDir } from './store-fixtures';

describe('message store: put and get', () => {
  let tmp: ReturnType<typeof tempStoreDir>;
  let store: MessageStore;

  beforeEach(async () => {
    tmp = tempStoreDir();
    store = await openStore(smallConfig(tmp.dir));
  });

  afterEach(async () => {
    await store.shutdown();
    tmp.remove();
  });

  it('stores records in the wire format with offsets, store time and CRC filled in', async () => {
    const before = Date.now();
    const r1 = await store.putMessage(message('T', 0, 'hello', { TAGS: 'a', KEYS: 'k1 k2' }));
    const r2 = await store.putMessage(message('T', 0, 'world'));
    const r3 = await store.putMessage(message('T', 1, 'other queue'));
    expect([r1.status, r2.status, r3.status]).toEqual(['PUT_OK', 'PUT_OK', 'PUT_OK']);
    expect(r1.wroteOffset).toBe(0);
    expect(r2.wroteOffset).toBe(r1.wroteBytes);
    expect([r1.logicsOffset, r2.logicsOffset, r3.logicsOffset]).toEqual([0, 1, 0]);
    expect(r1.msgId).toBe(createOffsetMsgId({ ip: '127.0.0.1', port: 10911 }, 0));

    const got = await store.getMessage({ topic: 'T', queueId: 0, offset: 0, maxMsgNums: 32 });
    expect(got.status).toBe(GetMessageStatus.FOUND);
    expect(got.messages).toHaveLength(2);
    expect(got.nextBeginOffset).toBe(2);
    expect([got.minOffset, got.maxOffset]).toEqual([0, 2]);
    const rec = decodeRecord(got.messages[0]);
    expect(rec.body.toString()).toBe('hello');
    expect(rec.physicalOffset).toBe(0);
    expect(rec.queueOffset).toBe(0);
    expect(rec.flag).toBe(7);
    expect(rec.storeTimestamp).toBeGreaterThanOrEqual(before);
    expect(rec.storeTimestamp).toBe(r1.storeTimestamp);
    expect(rec.properties.get('TAGS')).toBe('a');
    expect(got.bufferTotalSize).toBe(r1.wroteBytes + r2.wroteBytes);

    // The stored bytes are what a pull returns.
    const viewed = await store.lookMessageByOffset(r2.wroteOffset);
    expect(viewed?.equals(got.messages[1])).toBe(true);
    expect(await store.lookMessageByOffset(r2.wroteOffset + 1)).toBeUndefined();
    expect(store.getMaxPhyOffset()).toBe(r3.wroteOffset + r3.wroteBytes);
    expect(store.getMinPhyOffset()).toBe(0);
  });

  it('answers the offset statuses of a pull', async () => {
    for (let i = 0; i < 3; i++) await store.putMessage(message('S', 0, `m${i}`));
    const get = (topic: string, queueId: number, offset: number) =>
      store.getMessage({ topic, queueId, offset, maxMsgNums: 10 });
    expect((await get('S', 0, 3)).status).toBe(GetMessageStatus.OFFSET_OVERFLOW_ONE);
    const badly = await get('S', 0, 9);
    expect(badly.status).toBe(GetMessageStatus.OFFSET_OVERFLOW_BADLY);
    expect(badly.nextBeginOffset).toBe(0);
    const none = await get('nope', 0, 0);
    expect(none.status).toBe(GetMessageStatus.NO_MATCHED_LOGIC_QUEUE);
    expect(store.getMaxOffsetInQueue('nope', 0)).toBe(0);
    const partial = await store.getMessage({ topic: 'S', queueId: 0, offset: 1, maxMsgNums: 1 });
    expect(partial.messages).toHaveLength(1);
    expect(partial.nextBeginOffset).toBe(2);
  });

  it('caps a pull by count and bytes, and filters by tag code', async () => {
    for (let i = 0; i < 40; i++) {
      await store.putMessage(
        message('F', 0, Buffer.alloc(100, i), { TAGS: i % 2 ? 'odd' : 'even' }),
      );
    }
    const all = await store.getMessage({ topic: 'F', queueId: 0, offset: 0, maxMsgNums: 100 });
    // maxTransferCountOnMessageInMemory = 32
    expect(all.messages).toHaveLength(32);
    const size = all.messages[0].length;
    const capped = await store.getMessage({
      topic: 'F',
      queueId: 0,
      offset: 0,
      maxMsgNums: 100,
      maxTotalBytes: size * 3,
    });
    expect(capped.messages).toHaveLength(3);
    const odd = javaStringHash('odd');
    const filtered = await store.getMessage({
      topic: 'F',
      queueId: 0,
      offset: 0,
      maxMsgNums: 5,
      filter: { isMatchedByConsumeQueue: (t) => t === odd, isMatchedByCommitLog: () => true },
    });
    expect(filtered.messages.map((m) => decodeRecord(m).body[0])).toEqual([1, 3, 5, 7, 9]);
    expect(filtered.nextBeginOffset).toBe(10);
    const none = await store.getMessage({
      topic: 'F',
      queueId: 0,
      offset: 0,
      maxMsgNums: 5,
      filter: { isMatchedByConsumeQueue: () => false, isMatchedByCommitLog: () => true },
    });
    expect(none.status).toBe(GetMessageStatus.NO_MATCHED_MESSAGE);
    expect(none.nextBeginOffset).toBe(40);
  });

  it('finds offsets by time and the earliest store time', async () => {
    const r0 = await store.putMessage(message('Q', 0, 'a'));
    await new Promise((r) => setTimeout(r, 15));
    const r1 = await store.putMessage(message('Q', 0, 'b'));
    expect(await store.getEarliestMessageTime('Q', 0)).toBe(r0.storeTimestamp);
    expect(await store.getMessageStoreTimestamp('Q', 0, 1)).toBe(r1.storeTimestamp);
    expect(await store.getMessageStoreTimestamp('Q', 0, 5)).toBe(-1);
    expect(await store.getOffsetInQueueByTime('Q', 0, 0)).toBe(0);
    expect(await store.getOffsetInQueueByTime('Q', 0, r1.storeTimestamp)).toBe(1);
    expect(await store.getOffsetInQueueByTime('Q', 0, r1.storeTimestamp + 1)).toBe(2);
    expect(await store.getEarliestMessageTime('none', 0)).toBe(-1);
  });

  it('indexes KEYS and UNIQ_KEY for key queries', async () => {
    const r = await store.putMessage(
      message('K', 0, 'x', { KEYS: 'order-1 order-2', UNIQ_KEY: 'U1' }),
    );
    await store.putMessage(message('K', 1, 'y', { KEYS: 'order-2' }));
    await store.putMessage(message('Other', 0, 'z', { KEYS: 'order-1' }));
    const now = Date.now();
    const q1 = await store.queryMessage('K', 'order-1', 32, 0, now + 1000);
    expect(q1.messages.map((m) => decodeRecord(m).body.toString())).toEqual(['x']);
    const q2 = await store.queryMessage('K', 'order-2', 32, 0, now + 1000);
    expect(q2.messages.map((m) => decodeRecord(m).body.toString()).sort()).toEqual(['x', 'y']);
    const byUniq = await store.queryMessage('K', 'U1', 32, 0, now + 1000);
    expect(byUniq.messages[0].equals((await store.lookMessageByOffset(r.wroteOffset))!)).toBe(true);
    expect(q2.indexLastUpdatePhyoffset).toBeGreaterThan(0);
    expect(
      (await store.queryMessage('K', 'order-1', 32, now + 60_000, now + 70_000)).messages,
    ).toEqual([]);
  });

  it('appends a batch as consecutive records with consecutive queue offsets', async () => {
    await store.putMessage(message('B', 2, 'first'));
    const r = await store.putMessages([
      message('B', 2, 'b0'),
      message('B', 2, 'b1'),
      message('B', 2, 'b2'),
    ]);
    expect(r.status).toBe(PutMessageStatus.PUT_OK);
    expect(r.logicsOffset).toBe(1);
    expect(r.msgNum).toBe(3);
    expect(r.physicalOffsets).toHaveLength(3);
    expect(r.msgId.split(',')).toHaveLength(3);
    const got = await store.getMessage({ topic: 'B', queueId: 2, offset: 1, maxMsgNums: 10 });
    expect(got.messages.map((m) => decodeRecord(m).queueOffset)).toEqual([1, 2, 3]);
    expect(got.messages.map((m) => decodeRecord(m).physicalOffset)).toEqual(r.physicalOffsets);
    const mixed = await store.putMessages([message('B', 2, 'x'), message('B', 3, 'y')]);
    expect(mixed.status).toBe(PutMessageStatus.MESSAGE_ILLEGAL);
  });

  it('keeps PREPARED and ROLLBACK messages out of the consume queues', async () => {
    const half = await store.putMessage(
      message('TX', 0, 'half', {}, MessageSysFlag.TRANSACTION_PREPARED_TYPE),
    );
    expect(half.status).toBe(PutMessageStatus.PUT_OK);
    expect(half.logicsOffset).toBe(0);
    await store.putMessage(message('TX', 0, 'rb', {}, MessageSysFlag.TRANSACTION_ROLLBACK_TYPE));
    const commit = await store.putMessage(
      message('TX', 0, 'commit', {}, MessageSysFlag.TRANSACTION_COMMIT_TYPE),
    );
    expect(commit.logicsOffset).toBe(0);
    expect(store.getMaxOffsetInQueue('TX', 0)).toBe(1);
    const got = await store.getMessage({ topic: 'TX', queueId: 0, offset: 0, maxMsgNums: 10 });
    expect(got.messages.map((m) => decodeRecord(m).body.toString())).toEqual(['commit']);
    expect((await store.lookMessageByOffset(half.wroteOffset)) !== undefined).toBe(true);
  });

  it('parks delayed messages in SCHEDULE_TOPIC_XXXX with the delivery time as tag code', async () => {
    const r = await store.putMessage(message('D', 3, 'later', { DELAY: '2', TAGS: 't' }));
    expect(r.status).toBe(PutMessageStatus.PUT_OK);
    // level 2 = 5 s → queue 1
    const got = await store.getMessage({
      topic: 'SCHEDULE_TOPIC_XXXX',
      queueId: 1,
      offset: 0,
      maxMsgNums: 1,
      filter: {
        isMatchedByConsumeQueue: (tagsCode) => tagsCode === r.storeTimestamp + 5000,
        isMatchedByCommitLog: () => true,
      },
    });
    expect(got.messages).toHaveLength(1);
    const rec = decodeRecord(got.messages[0]);
    expect(rec.properties.get('REAL_TOPIC')).toBe('D');
    expect(rec.properties.get('REAL_QID')).toBe('3');
    expect(store.getMaxOffsetInQueue('D', 3)).toBe(0);
    const clamped = await store.putMessage(message('D', 0, 'x', { DELAY: '99' }));
    const c = decodeRecord((await store.lookMessageByOffset(clamped.wroteOffset))!);
    expect([c.queueId, c.properties.get('DELAY')]).toEqual([17, '18']);
    // Already parked by a broker hook: stored as it is.
    const parked = await store.putMessage(
      message('SCHEDULE_TOPIC_XXXX', 4, 'hooked', { DELAY: '5', REAL_TOPIC: 'D', REAL_QID: '0' }),
    );
    const p = decodeRecord((await store.lookMessageByOffset(parked.wroteOffset))!);
    expect([p.topic, p.queueId, p.properties.get('REAL_TOPIC')]).toEqual([
      'SCHEDULE_TOPIC_XXXX',
      4,
      'D',
    ]);
  });

  it('refuses illegal messages without storing anything', async () => {
    const longTopic = await store.putMessage(message('x'.repeat(128), 0, 'a'));
    expect(longTopic.status).toBe(PutMessageStatus.MESSAGE_ILLEGAL);
    const bigProps = await store.putMessage(message('T', 0, 'a', { P: 'v'.repeat(33000) }));
    expect(bigProps.status).toBe(PutMessageStatus.PROPERTIES_SIZE_EXCEEDED);
    const badHost = message('T', 0, 'a');
    badHost.bornHost = { ip: '::1:2', port: 1 };
    expect((await store.putMessage(badHost)).status).toBe(PutMessageStatus.MESSAGE_ILLEGAL);
    expect(store.getMaxPhyOffset()).toBe(0);
  });

  it('notifies arrival listeners as messages become consumable', async () => {
    const seen: [string, number, number][] = [];
    store.onMessageArrived((topic, queueId, next) => seen.push([topic, queueId, next]));
    await store.putMessage(message('L', 1, 'a'));
    await store.putMessage(message('L', 1, 'b'));
    for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([
      ['L', 1, 1],
      ['L', 1, 2],
    ]);
  });

  it('drops deleted topics and starts them again at offset 0', async () => {
    await store.putMessage(message('Gone', 0, 'a'));
    await store.putMessage(message('Gone', 0, 'b'));
    await store.deleteTopics(['Gone']);
    expect(store.getMaxOffsetInQueue('Gone', 0)).toBe(0);
    const r = await store.putMessage(message('Gone', 0, 'c'));
    expect(r.logicsOffset).toBe(0);
  });

  it('reports runtime figures', async () => {
    await store.putMessage(message('R', 0, 'a'));
    const info = store.runtimeInfo();
    expect(Number(info.putMessageTimesTotal)).toBe(1);
    expect(Number(info.commitLogMaxOffset)).toBeGreaterThan(0);
    expect(info.dispatchBehindBytes).toBeDefined();
  });
});

describe('message store: files, restart and rollover', () => {
  let tmp: ReturnType<typeof tempStoreDir>;
  beforeEach(() => (tmp = tempStoreDir()));
  afterEach(() => tmp.remove());

  it('rolls segments with a blank filler and serves everything after a clean restart', async () => {
    const config = smallConfig(tmp.dir);
    let store = await openStore(config);
    const results = [];
    // 1 KiB-ish bodies over 64 KiB segments: several rollovers.
    for (let i = 0; i < 300; i++) {
      results.push(
        store.putMessage(
          message('Roll', i % 3, Buffer.alloc(900 + (i % 7) * 37, i), { KEYS: `k${i}` }),
        ),
      );
    }
    const done = await Promise.all(results);
    expect(done.every((r) => r.status === PutMessageStatus.PUT_OK)).toBe(true);
    const files = readdirSync(join(tmp.dir, 'commitlog')).sort();
    expect(files.length).toBeGreaterThan(3);
    expect(files[1]).toBe(String(64 * 1024).padStart(20, '0'));
    // No record spans a file, and each file but the last ends in a blank filler.
    for (const r of done) {
      expect(Math.floor(r.wroteOffset / 65536)).toBe(
        Math.floor((r.wroteOffset + r.wroteBytes - 1) / 65536),
      );
    }
    await store.shutdown();
    expect(existsSync(join(tmp.dir, 'abort'))).toBe(false);
    const first = readFileSync(join(tmp.dir, 'commitlog', files[0]));
    const lastInFirst = done.filter((r) => r.wroteOffset < 65536).pop()!;
    const blankAt = lastInFirst.wroteOffset + lastInFirst.wroteBytes;
    expect(first.readInt32BE(blankAt)).toBe(65536 - blankAt);
    expect(first.readInt32BE(blankAt + 4)).toBe(-875286124);

    store = await openStore(config);
    const counts = await checkQueues(
      store,
      [0, 1, 2].map((q) => ({ topic: 'Roll', queueId: q })),
    );
    expect([...counts.values()]).toEqual([100, 100, 100]);
    const byKey = await store.queryMessage('Roll', 'k299', 32, 0, Date.now());
    expect(decodeRecord(byKey.messages[0]).queueOffset).toBe(99);
    const next = await store.putMessage(message('Roll', 0, 'after restart'));
    expect(next.logicsOffset).toBe(100);
    expect(next.wroteOffset).toBe(done[299].wroteOffset + done[299].wroteBytes);
    await store.shutdown();
  });

  it('rebuilds deleted consume queues and indexes from the CommitLog', async () => {
    const config = smallConfig(tmp.dir);
    let store = await openStore(config);
    for (let i = 0; i < 120; i++)
      await store.putMessage(message('RB', i % 2, `m${i}`, { KEYS: `key${i}` }));
    const delayed = await store.putMessage(message('RB', 0, 'later', { DELAY: '1', TAGS: 'x' }));
    await store.shutdown();
    rmSync(join(tmp.dir, 'consumequeue'), { recursive: true });
    rmSync(join(tmp.dir, 'index'), { recursive: true });
    store = await openStore(config);
    const counts = await checkQueues(
      store,
      [0, 1].map((q) => ({ topic: 'RB', queueId: q })),
    );
    expect([...counts.values()]).toEqual([60, 60]);
    expect((await store.queryMessage('RB', 'key77', 32, 0, Date.now())).messages).toHaveLength(1);
    // Rebuilt from the records alone, the delayed entry gets the same delivery-time tag code.
    const parked = await store.getMessage({
      topic: 'SCHEDULE_TOPIC_XXXX',
      queueId: 0,
      offset: 0,
      maxMsgNums: 1,
      filter: {
        isMatchedByConsumeQueue: (t) => t === delayed.storeTimestamp + 1000,
        isMatchedByCommitLog: () => true,
      },
    });
    expect(parked.messages).toHaveLength(1);
    expect((await store.putMessage(message('RB', 1, 'n'))).logicsOffset).toBe(60);
    await store.shutdown();
  });

  it('refuses a second store on the same directory and a segment of the wrong size', async () => {
    const config = smallConfig(tmp.dir);
    const store = await openStore(config);
    for (let i = 0; i < 80; i++) await store.putMessage(message('T', 0, Buffer.alloc(1000)));
    // Another live process holding the lock is simulated with our parent's pid.
    writeFileSync(join(tmp.dir, 'lock'), String(process.ppid));
    await expect(openStore(config)).rejects.toThrow(StoreError);
    writeFileSync(join(tmp.dir, 'lock'), String(process.pid));
    await store.shutdown();
    await expect(openStore({ ...config, mappedFileSizeCommitLog: 128 * 1024 })).rejects.toThrow(
      /configured size/,
    );
  });

  it('keeps the store-time field where the protocol says', async () => {
    const store = await openStore(smallConfig(tmp.dir));
    const r = await store.putMessage(message('T', 0, 'a'));
    const raw = (await store.lookMessageByOffset(r.wroteOffset))!;
    expect(raw.readInt32BE(RecordOffset.STORE_TIMESTAMP + 4)).toBe(
      (r.storeTimestamp % 2 ** 32) | 0,
    );
    await store.shutdown();
  });
});

describe('message store: flush on demand', () => {
  it('makes an ASYNC_FLUSH store durable up to its end when asked', async () => {
    const tmp = tempStoreDir();
    // No periodic CommitLog flush during the test: only flush() can make the bytes durable.
    const store = await openStore(
      smallConfig(tmp.dir, { flushIntervalCommitLog: 600_000, flushIntervalConsumeQueue: 600_000 }),
    );
    try {
      const flushes: number[] = [];
      store.onFlushed((seconds) => flushes.push(seconds));
      for (let i = 0; i < 20; i++) await store.putMessage(message('F', 0, `m${i}`));
      expect(flushes).toHaveLength(0);
      expect(await store.flush()).toBe(store.getMaxPhyOffset());
      expect(flushes.length).toBeGreaterThan(0);
    } finally {
      await store.shutdown();
      tmp.remove();
    }
  });
});
