import {
  LatencyFaultTolerance,
  notAvailableDuration,
  SendQueuePicker,
} from '../../client/latency-fault';
import type { MessageQueue } from '../../client/message-queue';

const queues: MessageQueue[] = ['a', 'b', 'c'].flatMap((brokerName) =>
  [0, 1].map((queueId) => ({ topic: 'T', brokerName, queueId })),
);

test.each([
  [0, 0],
  [49, 0],
  [100, 0],
  [549, 0],
  [550, 30000],
  [1000, 60000],
  [2500, 120000],
  [3000, 180000],
  [15000, 600000],
  [30000, 600000],
])('a broker that took %i ms is avoided for %i ms', (latency, duration) => {
  expect(notAvailableDuration(latency)).toBe(duration);
});

describe('LatencyFaultTolerance', () => {
  test('a failed broker is avoided for 10 minutes, then available again', () => {
    let now = 1_000_000;
    const faults = new LatencyFaultTolerance(() => now);
    faults.update('a', 5, true);
    expect(faults.isAvailable('a')).toBe(false);
    expect(faults.isAvailable('b')).toBe(true);
    now += 599_999;
    expect(faults.isAvailable('a')).toBe(false);
    now += 1;
    expect(faults.isAvailable('a')).toBe(true);
  });

  test('pickOneAtLeast prefers the broker that becomes available first', () => {
    const faults = new LatencyFaultTolerance(() => 0);
    faults.update('slow', 3000, false);
    faults.update('dead', 10, true);
    expect(faults.pickOneAtLeast()).toBe('slow');
    expect(new LatencyFaultTolerance().pickOneAtLeast()).toBeUndefined();
  });
});

describe('SendQueuePicker', () => {
  test('with fault tolerance, skips avoided brokers until they recover', () => {
    let now = 0;
    const picker = new SendQueuePicker(true, () => now);
    picker.record('a', 10, true);
    picker.record('b', 2000, false);
    for (let i = 0; i < 20; i++) expect(picker.pick(queues).brokerName).toBe('c');
    now = 120_000;
    const brokers = new Set(Array.from({ length: 20 }, () => picker.pick(queues).brokerName));
    expect(brokers).toEqual(new Set(['b', 'c']));
  });

  test('with every broker avoided, still picks one (the least bad)', () => {
    const picker = new SendQueuePicker(true, () => 0);
    picker.record('a', 10, true);
    picker.record('b', 10, true);
    picker.record('c', 600, false);
    expect(picker.pick(queues).brokerName).toBe('c');
  });

  test('without fault tolerance, a retry avoids the broker that just failed', () => {
    const picker = new SendQueuePicker(false);
    picker.record('a', 10, true); // ignored when disabled
    for (let i = 0; i < 20; i++) expect(picker.pick(queues, 'a').brokerName).not.toBe('a');
    const brokers = new Set(Array.from({ length: 30 }, () => picker.pick(queues).brokerName));
    expect(brokers).toEqual(new Set(['a', 'b', 'c']));
  });

  test('no queue is an error', () => {
    expect(() => new SendQueuePicker(false).pick([])).toThrow('no writable queue');
  });
});
