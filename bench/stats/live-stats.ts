import { LatencyHistogram, type LatencySummary } from './latency-histogram';

/** Count, mean and maximum of the latencies seen in one reporting interval. */
export interface IntervalFigures {
  count: number;
  avgMs: number;
  maxMs: number;
}

/** Latencies of the current interval (restarted by `take`) and of the whole run. */
class LatencyTrack {
  readonly total = new LatencyHistogram();
  /** Messages over the whole run (a batch send records one latency for many messages). */
  messages = 0;
  private intervalMessages = 0;
  private intervalSamples = 0;
  private intervalSum = 0;
  private intervalMax = 0;

  /** `latencyMs` undefined: the messages count, but their latency is unknown. */
  record(latencyMs: number | undefined, messages: number): void {
    this.messages += messages;
    this.intervalMessages += messages;
    if (latencyMs === undefined) return;
    this.intervalSamples++;
    this.intervalSum += latencyMs;
    if (latencyMs > this.intervalMax) this.intervalMax = latencyMs;
    this.total.record(latencyMs);
  }

  /** This interval's figures, then a new interval. */
  take(): IntervalFigures {
    const figures = {
      count: this.intervalMessages,
      avgMs: this.intervalSamples === 0 ? 0 : this.intervalSum / this.intervalSamples,
      maxMs: this.intervalMax,
    };
    this.intervalMessages = this.intervalSamples = this.intervalSum = this.intervalMax = 0;
    return figures;
  }
}

/** What the `bench` verb prints at the end, also as its JSON summary line. */
export interface RunSummary {
  seconds: number;
  sent: number;
  sendFailed: number;
  received: number;
  sendTps: number;
  receiveTps: number;
  /** Send → acknowledgement, per send call (a batch is one call). */
  sendRt: LatencySummary;
  /** Send → receive, per message (only when consumers run). */
  endToEnd: LatencySummary;
  firstError?: string;
}

/**
 * Running totals of a benchmark in the spirit of RocketMQ's benchmark Producer and Consumer:
 * per-interval send and receive TPS with average and maximum RT, and percentiles at the end.
 */
export class LiveStats {
  private readonly send = new LatencyTrack();
  private readonly receive = new LatencyTrack();
  private sendFailed = 0;
  private intervalFailed = 0;
  private firstError: string | undefined;
  private lastTick: number;

  constructor(private readonly startMs: number) {
    this.lastTick = startMs;
  }

  /** One acknowledged send call carrying `messages` messages. */
  sent(latencyMs: number, messages = 1): void {
    this.send.record(latencyMs, messages);
  }

  failed(err: unknown, messages = 1): void {
    this.sendFailed += messages;
    this.intervalFailed += messages;
    this.firstError ??= err instanceof Error ? err.message : String(err);
  }

  /** One message received; its send → receive time when known (sent during this run). */
  received(endToEndMs: number | undefined): void {
    this.receive.record(endToEndMs, 1);
  }

  /** The line for the interval since the last call, then starts the next interval. */
  intervalLine(nowMs: number): string {
    const seconds = (nowMs - this.lastTick) / 1000;
    this.lastTick = nowMs;
    const s = this.send.take();
    const r = this.receive.take();
    const failed = this.intervalFailed;
    this.intervalFailed = 0;
    const tps = (n: number) => (seconds > 0 ? n / seconds : 0).toFixed(0);
    return (
      `Send TPS: ${tps(s.count)} Max RT(ms): ${s.maxMs.toFixed(2)} ` +
      `Average RT(ms): ${s.avgMs.toFixed(3)} Send Failed: ${failed} | ` +
      `Receive TPS: ${tps(r.count)} Max S2C RT(ms): ${r.maxMs.toFixed(2)} ` +
      `Average S2C RT(ms): ${r.avgMs.toFixed(3)}`
    );
  }

  /** Messages acknowledged so far. */
  get sentMessages(): number {
    return this.send.messages;
  }

  /** Messages received so far. */
  get receivedMessages(): number {
    return this.receive.messages;
  }

  /**
   * The run's figures: send TPS over the time until `sendEndMs` (when the producers stopped),
   * receive TPS over the time until `endMs` (consumers may still be catching up after that).
   */
  summary(sendEndMs: number, endMs = sendEndMs): RunSummary {
    const seconds = (sendEndMs - this.startMs) / 1000;
    const receiveSeconds = (endMs - this.startMs) / 1000;
    return {
      seconds,
      sent: this.send.messages,
      sendFailed: this.sendFailed,
      received: this.receive.messages,
      sendTps: seconds > 0 ? this.send.messages / seconds : 0,
      receiveTps: receiveSeconds > 0 ? this.receive.messages / receiveSeconds : 0,
      sendRt: this.send.total.summary(),
      endToEnd: this.receive.total.summary(),
      ...(this.firstError === undefined ? {} : { firstError: this.firstError }),
    };
  }
}
