import { performance } from 'node:perf_hooks';
import { closedLoop, fixedRate, type PublishObserver } from '../../bench/load/generator';
import { ageOf, PayloadFactory, stampClock } from '../../bench/load/payload';
import { FixedRateSchedule } from '../../bench/stats/fixed-rate-schedule';
import { LatencyHistogram } from '../../bench/stats/latency-histogram';
import { LiveStats } from '../../bench/stats/live-stats';
import { deflateSync } from 'node:zlib';

describe('LatencyHistogram', () => {
  test('percentiles of 1..10000 µs are exact to 0.1 %', () => {
    const h = new LatencyHistogram();
    for (let us = 1; us <= 10_000; us++) h.record(us / 1000);
    const s = h.summary();
    expect(s.count).toBe(10_000);
    expect(s.p50).toBeCloseTo(5, 2);
    expect(s.p99).toBeCloseTo(9.9, 1);
    expect(s.p999).toBeCloseTo(9.99, 1);
    expect(s.max).toBeCloseTo(10, 2);
    expect(s.mean).toBeCloseTo(5, 2);
    expect(Math.abs(s.p99 - 9.9) / 9.9).toBeLessThan(0.001);
  });

  test('a tail is seen: 1 % of samples at 100 ms moves p99.9 but not p50', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 990; i++) h.record(0.5);
    for (let i = 0; i < 10; i++) h.record(100);
    const s = h.summary();
    expect(s.p50).toBeCloseTo(0.5, 2);
    expect(s.p999).toBeCloseTo(100, 0);
    expect(s.p999).toBeLessThanOrEqual(s.max);
  });

  test('empty is all zeros; reset empties', () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toEqual({ count: 0, mean: 0, p50: 0, p99: 0, p999: 0, max: 0 });
    h.record(3);
    h.reset();
    expect(h.count).toBe(0);
  });
});

describe('FixedRateSchedule', () => {
  test('message i is due at start + i / rate', () => {
    const s = new FixedRateSchedule(1000, 10_000);
    expect(s.intervalMs).toBeCloseTo(0.1);
    expect(s.intendedTime(0)).toBe(1000);
    expect(s.intendedTime(25)).toBeCloseTo(1002.5);
    expect(s.dueBy(999)).toBe(0);
    expect(s.dueBy(1000)).toBe(1);
    expect(s.dueBy(1001)).toBe(11);
  });

  test('a non-positive rate is refused', () => {
    expect(() => new FixedRateSchedule(0, 0)).toThrow(RangeError);
  });
});

describe('payload', () => {
  test('bodies have the size, differ, do not compress, and carry their send time', () => {
    const payload = new PayloadFactory(1024);
    const a = payload.next();
    const b = payload.next();
    expect(a.length).toBe(1024);
    expect(a.subarray(8).equals(b.subarray(8))).toBe(false);
    expect(deflateSync(a).length).toBeGreaterThan(1000);
    const age = ageOf(a, stampClock());
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(1000);
  });

  test('a body without a plausible stamp, or stamped before the run, has no age', () => {
    expect(ageOf(Buffer.from('hi'), stampClock())).toBeUndefined();
    expect(ageOf(Buffer.alloc(16), stampClock())).toBeUndefined();
    const body = new PayloadFactory(64).next();
    const now = stampClock();
    expect(ageOf(body, now, now - 60_000)).toBeDefined();
    expect(ageOf(body, now, now + 1)).toBeUndefined();
  });
});

/** Records what the generator reports. */
function recorder() {
  const latencies: number[] = [];
  let failures = 0;
  const observer: PublishObserver = {
    acked: (latencyMs) => latencies.push(latencyMs),
    failed: () => failures++,
  };
  return { latencies, observer, failures: () => failures };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('load generator', () => {
  test('closedLoop never exceeds its concurrency and stops when told', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const publish = async () => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await sleep(1);
      inFlight--;
    };
    const { latencies, observer } = recorder();
    const end = performance.now() + 100;
    await closedLoop(publish, new PayloadFactory(64), 8, () => performance.now() < end, observer);
    expect(maxInFlight).toBe(8);
    expect(inFlight).toBe(0);
    expect(latencies.length).toBeGreaterThan(8);
  });

  test('fixedRate keeps the rate and charges a stall to every message it delayed', async () => {
    // A target that answers at once, except that it stalls 50 ms, once, at 100 ms.
    const start = performance.now();
    let stalled = false;
    const publish = async () => {
      if (!stalled && performance.now() - start > 100) {
        stalled = true;
        const until = performance.now() + 50;
        while (performance.now() < until); // blocks the loop, as a GC pause or a full disk would
      }
    };
    const { latencies, observer, failures } = recorder();
    await fixedRate(publish, new PayloadFactory(64), 1000, start + 300, 1000, observer);
    expect(failures()).toBe(0);
    expect(latencies.length).toBeGreaterThanOrEqual(290);
    expect(latencies.length).toBeLessThanOrEqual(301);
    // The ~50 messages due during the stall were sent late: their latency counts from when
    // they should have been sent, so about 50 of them see 25 ms or more.
    const slow = latencies.filter((l) => l > 25).length;
    expect(slow).toBeGreaterThanOrEqual(20);
  });
});

describe('LiveStats', () => {
  test('per-interval TPS, average and max RT, then totals', () => {
    const stats = new LiveStats(0);
    stats.sent(2);
    stats.sent(4, 32); // one batch of 32
    stats.failed(new Error('boom'));
    stats.received(7);
    stats.received(undefined); // from before the run: counted, no latency
    const line = stats.intervalLine(1000);
    expect(line).toContain('Send TPS: 33 ');
    expect(line).toContain('Max RT(ms): 4.00');
    expect(line).toContain('Average RT(ms): 3.000');
    expect(line).toContain('Send Failed: 1');
    expect(line).toContain('Receive TPS: 2 ');
    expect(line).toContain('Average S2C RT(ms): 7.000');
    expect(stats.intervalLine(2000)).toContain('Send TPS: 0 ');
    const summary = stats.summary(2000, 4000);
    expect(summary).toMatchObject({
      seconds: 2,
      sent: 33,
      sendFailed: 1,
      received: 2,
      sendTps: 16.5,
      receiveTps: 0.5,
      firstError: 'boom',
    });
    expect(summary.sendRt.count).toBe(2);
    expect(summary.endToEnd.count).toBe(1);
    expect(summary.endToEnd.max).toBeCloseTo(7, 2);
  });
});
