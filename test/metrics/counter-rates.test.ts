import { Counter, Registry } from 'prom-client';
import { CounterRates } from '../../broker/stats/counter-rates';
import { withBoolComparisons } from './promql-bool';

function topicCounter(): Counter<'topic'> {
  return new Counter({
    name: 'test_messages_total',
    help: 'test',
    labelNames: ['topic'],
    registers: [new Registry()],
  });
}

describe('CounterRates', () => {
  it('averages since start until a minute has passed, then over the last minute', async () => {
    const counter = topicCounter();
    const start = 1_000_000;
    const rates = new CounterRates(counter, start);
    counter.inc({ topic: 'a' }, 100);
    expect(await rates.rates(start + 10_000)).toEqual([{ labels: { topic: 'a' }, perSecond: 10 }]);

    // One snapshot every 10 s; 600 more messages arrive in the minute after the first 100.
    for (let t = 10_000; t <= 70_000; t += 10_000) {
      await rates.sample(start + t);
      counter.inc({ topic: 'a' }, 100);
    }
    counter.inc({ topic: 'b' }, 30);
    const now = start + 75_000;
    const byTopic = new Map(
      (await rates.rates(now)).map((r) => [r.labels.topic, r.perSecond] as const),
    );
    // Base: the oldest snapshot within the minute, at +20 s (value 200); now 800 → 600 in 55 s.
    expect(byTopic.get('a')).toBeCloseTo(600 / 55, 6);
    // A label set born after the base snapshot counts from 0.
    expect(byTopic.get('b')).toBeCloseTo(30 / 55, 6);
  });

  it('takes no snapshot before a sample period has passed', async () => {
    const counter = topicCounter();
    const rates = new CounterRates(counter, 0);
    counter.inc({ topic: 'a' }, 50);
    await rates.sample(5_000);
    expect(await rates.rates(10_000)).toEqual([{ labels: { topic: 'a' }, perSecond: 5 }]);
  });
});

describe('withBoolComparisons', () => {
  it('turns comparisons into bool comparisons and leaves label matchers alone', () => {
    expect(withBoolComparisons('max by (x) (m{a!="b", c=~"d>e"}) > 0.85')).toBe(
      'max by (x) (m{a!="b", c=~"d>e"}) > bool 0.85',
    );
    expect(withBoolComparisons('a == 0 and b >= bool 1 or c != 2')).toBe(
      'a == bool 0 and b >= bool 1 or c != bool 2',
    );
    expect(withBoolComparisons('histogram_quantile(0.99, rate(x[5m])) <= 0.5')).toBe(
      'histogram_quantile(0.99, rate(x[5m])) <= bool 0.5',
    );
  });
});
