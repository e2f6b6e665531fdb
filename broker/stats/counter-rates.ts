import type { Counter, LabelValues } from 'prom-client';

/** Java's StatsItem minute figures: one sample every 10 s, rates over the last minute. */
const SAMPLE_PERIOD_MS = 10_000;
const WINDOW_MS = 60_000;

interface Snapshot {
  time: number;
  values: Map<string, number>;
}

export interface LabelledRate<T extends string> {
  labels: LabelValues<T>;
  perSecond: number;
}

/**
 * Per-second rates of a labelled prom-client counter over the last minute, the way
 * rocketmq-exporter reads BrokerStatsManager's `statsMinute.tps` (TOPIC_PUT_NUMS,
 * GROUP_GET_SIZE…): the counter is snapshotted every 10 s off the request path, and a rate is
 * (value now − value at the oldest snapshot within the minute) / elapsed time. Counting stays
 * where it already is (the counter's inc on the send/pull path); nothing is added there.
 */
export class CounterRates<T extends string> {
  private readonly snapshots: Snapshot[];

  constructor(
    private readonly counter: Counter<T>,
    startedAt = Date.now(),
  ) {
    // Counters start at zero, so the broker's start is the first snapshot.
    this.snapshots = [{ time: startedAt, values: new Map() }];
  }

  /** Takes a snapshot if the newest is a sample period old (call it from a 1 s timer). */
  async sample(now = Date.now()): Promise<void> {
    const newest = this.snapshots[this.snapshots.length - 1];
    if (now - newest.time < SAMPLE_PERIOD_MS) return;
    const values = new Map<string, number>();
    for (const { labels, value } of (await this.counter.get()).values) {
      values.set(labelKey(labels), value);
    }
    this.snapshots.push({ time: now, values });
    // Keep one snapshot at or before the window's start, so a full minute is always covered.
    while (this.snapshots.length > 1 && now - this.snapshots[1].time >= WINDOW_MS) {
      this.snapshots.shift();
    }
  }

  /** The rate of every label set the counter has seen, at scrape time. */
  async rates(now = Date.now()): Promise<LabelledRate<T>[]> {
    const base =
      this.snapshots.find((s) => now - s.time <= WINDOW_MS) ??
      this.snapshots[this.snapshots.length - 1];
    const seconds = (now - base.time) / 1000;
    const out: LabelledRate<T>[] = [];
    for (const { labels, value } of (await this.counter.get()).values) {
      const before = base.values.get(labelKey(labels)) ?? 0;
      out.push({
        labels: labels as LabelValues<T>,
        perSecond: seconds > 0 ? Math.max(0, value - before) / seconds : 0,
      });
    }
    return out;
  }
}

function labelKey(labels: object): string {
  return Object.values(labels as Record<string, string | number>).join('\u0000');
}
