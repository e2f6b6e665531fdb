/**
 * Send latency fault tolerance (`sendLatencyFaultEnable`, Java `MQFaultStrategy`): a broker that
 * answered slowly or failed is avoided for a while, the longer the slower it was.
 */
import type { MessageQueue } from './message-queue';
import { RoundRobin } from './queue-selector';

/** Latency thresholds (ms) and how long a broker that reached each is avoided (ms). */
const LATENCY_MAX = [50, 100, 550, 1000, 2000, 3000, 15000];
const NOT_AVAILABLE_DURATION = [0, 0, 30000, 60000, 120000, 180000, 600000];
/** A failed send is treated as this latency ("isolation"). */
export const ISOLATION_LATENCY = 30000;

/** How long a broker that took `latencyMs` to answer is avoided. */
export function notAvailableDuration(latencyMs: number): number {
  for (let i = LATENCY_MAX.length - 1; i >= 0; i--) {
    if (latencyMs >= LATENCY_MAX[i]) return NOT_AVAILABLE_DURATION[i];
  }
  return 0;
}

interface FaultItem {
  latencyMs: number;
  availableAt: number;
}

export class LatencyFaultTolerance {
  private readonly items = new Map<string, FaultItem>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a send's outcome; `failed` isolates the broker as if it took 30 s. */
  update(brokerName: string, latencyMs: number, failed: boolean): void {
    const effective = failed ? ISOLATION_LATENCY : latencyMs;
    this.items.set(brokerName, {
      latencyMs: effective,
      availableAt: this.now() + notAvailableDuration(effective),
    });
  }

  isAvailable(brokerName: string): boolean {
    const item = this.items.get(brokerName);
    return item === undefined || this.now() >= item.availableAt;
  }

  /** Of the avoided brokers, the one that becomes available first (then the fastest). */
  pickOneAtLeast(): string | undefined {
    let best: [string, FaultItem] | undefined;
    for (const entry of this.items) {
      const [, item] = entry;
      if (
        !best ||
        item.availableAt < best[1].availableAt ||
        (item.availableAt === best[1].availableAt && item.latencyMs < best[1].latencyMs)
      ) {
        best = entry;
      }
    }
    return best?.[0];
  }
}

/**
 * Picks the queue for the next send attempt. With fault tolerance it skips queues of brokers
 * that are being avoided; without, it only avoids the broker of the previous failed attempt.
 */
export class SendQueuePicker {
  readonly faults: LatencyFaultTolerance;
  private readonly counter = new RoundRobin();

  constructor(
    private readonly faultToleranceEnabled: boolean,
    now: () => number = Date.now,
  ) {
    this.faults = new LatencyFaultTolerance(now);
  }

  pick(queues: readonly MessageQueue[], lastBrokerName?: string): MessageQueue {
    if (queues.length === 0) throw new Error('no writable queue');
    if (this.faultToleranceEnabled) {
      for (let i = 0; i < queues.length; i++) {
        const mq = queues[this.counter.next(queues.length)];
        if (this.faults.isAvailable(mq.brokerName)) return mq;
      }
      const notBest = this.faults.pickOneAtLeast();
      const onNotBest = queues.filter((q) => q.brokerName === notBest);
      if (onNotBest.length > 0) return onNotBest[this.counter.next(onNotBest.length)];
    }
    if (lastBrokerName !== undefined) {
      for (let i = 0; i < queues.length; i++) {
        const mq = queues[this.counter.next(queues.length)];
        if (mq.brokerName !== lastBrokerName) return mq;
      }
    }
    return queues[this.counter.next(queues.length)];
  }

  /** Records the outcome of a send to `brokerName` (only used with fault tolerance on). */
  record(brokerName: string, latencyMs: number, failed: boolean): void {
    if (this.faultToleranceEnabled) this.faults.update(brokerName, latencyMs, failed);
  }
}
