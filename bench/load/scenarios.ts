import { performance } from 'node:perf_hooks';
import { LatencyHistogram, type LatencySummary } from '../stats/latency-histogram';
import type { BenchTarget, Durability } from '../targets/target';
import { closedLoop, fixedRate, type PublishObserver } from './generator';
import { ageOf, PayloadFactory, stampClock } from './payload';

/** The scenarios of the side-by-side comparison, numbered as in the benchmark issue. */
export const SCENARIOS = {
  1: { title: 'async publish, in-flight window', durability: 'async' },
  2: { title: 'async batch publish, in-flight window (ours only)', durability: 'async' },
  3: { title: 'concurrent synchronous producers, strongest durability', durability: 'sync' },
  4: { title: 'fixed rate: send latency', durability: 'async' },
  5: { title: 'produce and consume: end to end', durability: 'async' },
} as const satisfies Record<number, { title: string; durability: Durability }>;

export type ScenarioId = keyof typeof SCENARIOS;

/** The scenarios every target runs (scenario 2 needs a batch API, which peers lack here). */
export const COMPARED_SCENARIOS: readonly ScenarioId[] = [1, 3, 4, 5];

export function isScenarioId(n: number): n is ScenarioId {
  return Object.hasOwn(SCENARIOS, n);
}

export interface ScenarioSettings {
  /** Measured time, after the warm-up. */
  durationMs: number;
  /** Load applied but not measured first: JIT, connection and cache warm-up. */
  warmupMs: number;
  messageSize: number;
  /** Scenarios 1, 2 and 5: unacknowledged sends in flight. */
  window: number;
  /** Scenario 2: messages per batch. */
  batchSize: number;
  /** Scenario 3: concurrent synchronous producers. */
  syncProducers: number;
  /** Scenario 4: messages per second. */
  rate: number;
}

export const DEFAULT_SETTINGS: ScenarioSettings = {
  durationMs: 10_000,
  warmupMs: 2_000,
  messageSize: 1024,
  window: 128,
  batchSize: 32,
  syncProducers: 64,
  rate: 10_000,
};

export interface ScenarioResult {
  scenario: ScenarioId;
  /** Acknowledged messages per second in the measured time. */
  sentPerSec: number;
  /** Send → acknowledgement (of a batch, in scenario 2); for scenario 4 from the intended send time. */
  send: LatencySummary;
  errors: number;
  firstError?: string;
  /** Scenario 5: messages received per second and send → receive latency. */
  consumedPerSec?: number;
  endToEnd?: LatencySummary;
}

/** The measured interval: what happens before `start` (warm-up) or after `end` is ignored. */
class MeasuredWindow implements PublishObserver {
  readonly latency = new LatencyHistogram();
  acks = 0;
  errors = 0;
  firstError: string | undefined;

  constructor(
    readonly start: number,
    readonly end: number,
    /** Messages each acknowledgement stands for (the batch size). */
    private readonly messagesPerAck = 1,
  ) {}

  contains(nowMs: number): boolean {
    return nowMs >= this.start && nowMs < this.end;
  }

  acked(latencyMs: number, nowMs: number): void {
    if (!this.contains(nowMs)) return;
    this.acks += this.messagesPerAck;
    this.latency.record(latencyMs);
  }

  failed(err: unknown): void {
    this.errors++;
    this.firstError ??= err instanceof Error ? err.message : String(err);
  }

  perSecond(count: number): number {
    return (count * 1000) / (this.end - this.start);
  }
}

/** Runs one scenario against a connected target and measures it. */
export async function runScenario(
  scenario: ScenarioId,
  target: BenchTarget,
  settings: ScenarioSettings,
): Promise<ScenarioResult> {
  const payload = new PayloadFactory(settings.messageSize);
  const publish = (body: Buffer) => target.publish(body);
  // Scenario 5's consumer starts (joins, gets its queues) before the clock does.
  const consumer = scenario === 5 ? await startConsumer(target) : undefined;
  const begin = performance.now();
  const window = new MeasuredWindow(
    begin + settings.warmupMs,
    begin + settings.warmupMs + settings.durationMs,
    scenario === 2 ? settings.batchSize : 1,
  );
  const running = () => performance.now() < window.end;

  const result = (extra: Partial<ScenarioResult> = {}): ScenarioResult => ({
    scenario,
    sentPerSec: window.perSecond(window.acks),
    send: window.latency.summary(),
    errors: window.errors,
    ...(window.firstError === undefined ? {} : { firstError: window.firstError }),
    ...extra,
  });

  switch (scenario) {
    case 1:
      await closedLoop(publish, payload, settings.window, running, window);
      return result();
    case 2: {
      const publishBatch = target.publishBatch?.bind(target);
      if (!publishBatch) throw new Error('this target has no batch send');
      const batch = (first: Buffer) => {
        const bodies = [first];
        while (bodies.length < settings.batchSize) bodies.push(payload.next());
        return publishBatch(bodies);
      };
      await closedLoop(batch, payload, settings.window, running, window);
      return result();
    }
    case 3:
      await closedLoop(publish, payload, settings.syncProducers, running, window);
      return result();
    case 4:
      // Room for a second's worth of sends before lateness is charged as latency.
      await fixedRate(publish, payload, settings.rate, window.end, settings.rate, window);
      return result();
    case 5: {
      const tally = consumer!;
      tally.window = window;
      await closedLoop(publish, payload, settings.window, running, window);
      if (tally.error) window.failed(tally.error);
      return result({
        consumedPerSec: window.perSecond(tally.consumed),
        endToEnd: tally.endToEnd.summary(),
      });
    }
  }
}

/** What a consumer saw in the measured window (none until the window is set). */
interface ConsumerTally {
  window?: MeasuredWindow;
  consumed: number;
  endToEnd: LatencyHistogram;
  error?: Error;
}

async function startConsumer(target: BenchTarget): Promise<ConsumerTally> {
  const tally: ConsumerTally = { consumed: 0, endToEnd: new LatencyHistogram() };
  await target.consume(
    (body) => {
      if (!tally.window?.contains(performance.now())) return;
      tally.consumed++;
      const age = ageOf(body, stampClock());
      if (age !== undefined) tally.endToEnd.record(age);
    },
    (err) => (tally.error ??= err),
  );
  return tally;
}
