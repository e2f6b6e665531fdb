import { build, type Histogram } from 'hdr-histogram-js';

/** Percentiles and extremes of a set of latencies, in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * Latencies recorded at microsecond resolution into an HdrHistogram (3 significant digits,
 * i.e. within 0.1 %). Chosen over keeping every sample because memory and recording cost stay
 * constant however long a run is (the `bench` verb may run for hours at 100k+ msgs/s), and
 * over a home-made bucketing because HdrHistogram's error bound is known and documented.
 */
export class LatencyHistogram {
  private readonly hdr: Histogram = build({
    lowestDiscernibleValue: 1,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

  record(milliseconds: number): void {
    // Sub-microsecond latencies count as 1 µs: the histogram's smallest unit.
    this.hdr.recordValue(Math.max(1, Math.round(milliseconds * 1000)));
  }

  get count(): number {
    return this.hdr.totalCount;
  }

  /** The latency at `percentile` (0–100), in ms; 0 when nothing was recorded. */
  percentile(percentile: number): number {
    return this.count === 0 ? 0 : this.hdr.getValueAtPercentile(percentile) / 1000;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, mean: 0, p50: 0, p99: 0, p999: 0, max: 0 };
    const max = this.hdr.maxValue / 1000;
    // A percentile is reported as the top of its bucket, which can exceed the largest value.
    const at = (percentile: number) => Math.min(this.percentile(percentile), max);
    return {
      count: this.count,
      mean: this.hdr.mean / 1000,
      p50: at(50),
      p99: at(99),
      p999: at(99.9),
      max,
    };
  }

  reset(): void {
    this.hdr.reset();
  }
}
