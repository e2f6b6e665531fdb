import type { ScenarioResult } from '../../bench/load/scenarios';
import { advantageOfOurs, formatComparison, type ComparisonRow } from '../../bench/report';
import type { LatencySummary } from '../../bench/stats/latency-histogram';

const latency = (p99: number): LatencySummary => ({
  count: 100,
  mean: p99 / 2,
  p50: p99 / 4,
  p99,
  p999: p99 * 2,
  max: p99 * 3,
});

function row(target: string, scenario: ComparisonRow['scenario'], perSec: number, p99: number) {
  const result: ScenarioResult = { scenario, sentPerSec: perSec, send: latency(p99), errors: 0 };
  if (scenario === 5) Object.assign(result, { consumedPerSec: perSec, endToEnd: latency(p99) });
  const idle = scenario === 1 ? { idleRssBytes: 32 << 20 } : {};
  return { scenario, target, durability: 'd', result, serverRssBytes: 64 << 20, ...idle };
}

describe('comparison table', () => {
  const ours1 = row('ours', 1, 90_000, 3);
  const nats1 = row('nats', 1, 30_000, 6);

  test('throughput scenarios compare msgs/s, ours over theirs', () => {
    expect(advantageOfOurs(nats1, ours1)).toBeCloseTo(3);
    expect(advantageOfOurs(row('x', 5, 45_000, 9), row('ours', 5, 90_000, 1))).toBeCloseTo(2);
  });

  test('the fixed-rate scenario compares p99, theirs over ours', () => {
    expect(advantageOfOurs(row('nats', 4, 10_000, 8), row('ours', 4, 10_000, 2))).toBeCloseTo(4);
  });

  test('without our row, or with a failed row, there is no ratio', () => {
    expect(advantageOfOurs(nats1, undefined)).toBeUndefined();
    expect(advantageOfOurs({ ...nats1, result: undefined, error: 'x' }, ours1)).toBeUndefined();
  });

  test('one row per scenario and target, failures say why', () => {
    const failed: ComparisonRow = { scenario: 3, target: 'rabbit', durability: '', error: 'no' };
    const text = formatComparison([ours1, nats1, failed], 'ours');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^#\s+target\s+durability\s+msgs\/s\s+p50 ms\s+p99 ms/);
    expect(lines[1]).toMatch(
      /^1\s+ours\s+d\s+90000\s+0\.75\s+3\.00\s+6\.00\s+0\s+64 \(idle 32\)\s+1\.00x$/,
    );
    expect(lines[2]).toMatch(/^1\s+nats\s+d\s+30000\s+.*3\.00x$/);
    expect(lines[3]).toMatch(/^3\s+rabbit\s+failed \[1\]$/);
    expect(text).toContain('[1] rabbit, scenario 3: no');
    expect(text).toContain('3: concurrent synchronous producers');
  });
});
