import type { MessageExt } from '../../client/message';
import { ProcessQueue } from '../../client/process-queue';

const msg = (queueOffset: number) => ({ queueOffset, reconsumeTimes: 0 }) as MessageExt;

describe('ProcessQueue', () => {
  test('the commit offset is the smallest offset in flight, else one past the largest', () => {
    const pq = new ProcessQueue();
    expect(pq.remove([msg(0)])).toBe(-1);
    const msgs = [10, 11, 12, 13].map(msg);
    pq.add(msgs);
    pq.add([msg(12)]); // already there: ignored
    expect(pq.count).toBe(4);
    expect(pq.remove([msgs[1], msgs[2]])).toBe(10);
    expect(pq.remove([msgs[0]])).toBe(13);
    pq.add([msg(14)]);
    pq.pulledUpTo(20); // 15..19 were filtered out by tag
    expect(pq.remove([msgs[3]])).toBe(14);
    expect(pq.remove([msg(14)])).toBe(20);
    expect(pq.count).toBe(0);
  });

  test('orderly: take, roll back (counting the redelivery), take again, commit', () => {
    const pq = new ProcessQueue();
    pq.add([5, 6, 7].map(msg));
    const first = pq.take(2);
    expect(first.map((m) => m.queueOffset)).toEqual([5, 6]);
    pq.rollback();
    const again = pq.take(2);
    expect(again.map((m) => [m.queueOffset, m.reconsumeTimes])).toEqual([
      [5, 1],
      [6, 1],
    ]);
    expect(pq.commit()).toBe(7);
    expect(pq.take(5).map((m) => m.queueOffset)).toEqual([7]);
    expect(pq.commit()).toBe(8);
    expect(pq.take(1)).toEqual([]);
  });

  test('a lock not renewed for 30 s has expired', () => {
    const pq = new ProcessQueue();
    pq.lastLockTimestamp = 1000;
    expect(pq.lockExpired(31_000)).toBe(false);
    expect(pq.lockExpired(31_001)).toBe(true);
  });
});
