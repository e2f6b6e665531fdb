/**
 * When each message of a fixed-rate run should be sent: message i at start + i / rate. A
 * latency is measured from this intended time, not from when the send actually happened, so
 * a target (or load generator) that stalls is charged for every message the stall delayed —
 * the correction for "coordinated omission" that a closed-loop timer would hide.
 */
export class FixedRateSchedule {
  readonly intervalMs: number;

  constructor(
    readonly startMs: number,
    ratePerSecond: number,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${ratePerSecond}`);
    this.intervalMs = 1000 / ratePerSecond;
  }

  /** The intended send time of message `index` (0-based). */
  intendedTime(index: number): number {
    return this.startMs + index * this.intervalMs;
  }

  /** How many messages should have been sent by `nowMs` (message 0 is due at the start). */
  dueBy(nowMs: number): number {
    if (nowMs < this.startMs) return 0;
    return Math.floor((nowMs - this.startMs) / this.intervalMs) + 1;
  }
}
