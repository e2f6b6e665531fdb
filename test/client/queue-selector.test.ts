import { RoundRobin, roundRobinSelector, selectByHash } from '../../client/queue-selector';
import type { MessageQueue } from '../../client/message-queue';
import { javaStringHash } from '../../common/message/java-hash';

const queues: MessageQueue[] = Array.from({ length: 8 }, (_, queueId) => ({
  topic: 'T',
  brokerName: queueId < 4 ? 'a' : 'b',
  queueId: queueId % 4,
}));

describe('selectByHash', () => {
  test('picks |javaHash(key) % n| as Java SelectMessageQueueByHash', () => {
    for (const key of ['order-1', 'order-2', 'zzzzzzzzzzzz', '', '\u00e9t\u00e9']) {
      const expected = Math.abs(javaStringHash(key) % queues.length);
      expect(selectByHash(queues, key)).toBe(queues[expected]);
    }
  });

  test('handles negative hashes and numeric keys', () => {
    const negative = 'polygenelubricants'; // Java hash Integer.MIN_VALUE
    expect(javaStringHash(negative)).toBe(-2147483648);
    expect(selectByHash(queues, negative)).toBe(queues[0]);
    expect(selectByHash(queues, -13)).toBe(queues[5]);
    expect(selectByHash(queues, 21)).toBe(queues[5]);
  });

  test('the same key always maps to the same queue', () => {
    const first = selectByHash(queues, 'customer-42');
    for (let i = 0; i < 10; i++) expect(selectByHash(queues, 'customer-42')).toBe(first);
  });
});

describe('round robin', () => {
  test('visits every queue once per cycle', () => {
    const select = roundRobinSelector();
    const seen = new Set(Array.from({ length: queues.length }, () => select(queues, undefined)));
    expect(seen.size).toBe(queues.length);
  });

  test('the counter wraps without going negative', () => {
    const counter = new RoundRobin();
    for (let i = 0; i < 1000; i++) {
      const index = counter.next(3);
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(3);
    }
  });
});
