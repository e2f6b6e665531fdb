import { performance } from 'node:perf_hooks';
import { FixedRateSchedule } from '../stats/fixed-rate-schedule';
import type { PayloadFactory } from './payload';

/** Sends one message (or one batch) and resolves when the target acknowledged it. */
export type Publish = (body: Buffer) => Promise<void>;

/** Hears about every acknowledgement and failure of a load run. */
export interface PublishObserver {
  /** `latencyMs`: from the send (closed loop) or from the intended send time (fixed rate). */
  acked(latencyMs: number, nowMs: number): void;
  failed(err: unknown): void;
}

/** After a failed send a producer pauses this long, so a dead target is not spun on. */
const RETRY_PAUSE_MS = 10;

/**
 * `concurrency` producers, each sending its next message as soon as the previous one is
 * acknowledged, while `running()` holds. With one connection underneath this is the same as
 * an in-flight window of `concurrency` asynchronous sends. Resolves when all have stopped.
 */
export async function closedLoop(
  publish: Publish,
  payload: PayloadFactory,
  concurrency: number,
  running: () => boolean,
  observer: PublishObserver,
): Promise<void> {
  const producer = async () => {
    while (running()) {
      const body = payload.next();
      const sentAt = performance.now();
      try {
        await publish(body);
        const now = performance.now();
        observer.acked(now - sentAt, now);
      } catch (err) {
        observer.failed(err);
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, producer));
}

/**
 * Sends at `ratePerSecond` until `endMs` (performance.now() time), open loop: a send does not
 * wait for earlier acknowledgements, up to `maxInFlight` outstanding; beyond that sends are
 * late and the lateness is charged to their latency (measured from the intended send time).
 * Resolves when every sent message has been answered.
 */
export function fixedRate(
  publish: Publish,
  payload: PayloadFactory,
  ratePerSecond: number,
  endMs: number,
  maxInFlight: number,
  observer: PublishObserver,
): Promise<void> {
  const schedule = new FixedRateSchedule(performance.now(), ratePerSecond);
  let index = 0;
  let inFlight = 0;
  return new Promise((resolve) => {
    const settle = () => {
      if (--inFlight === 0 && performance.now() >= endMs) resolve();
    };
    const tick = () => {
      const now = performance.now();
      const ended = now >= endMs;
      // A late last tick (a loaded machine) still sends everything that was due before the end.
      const due = schedule.dueBy(Math.min(now, endMs));
      for (; index < due && inFlight < maxInFlight; index++) {
        const intended = schedule.intendedTime(index);
        inFlight++;
        publish(payload.next()).then(
          () => {
            const at = performance.now();
            observer.acked(at - intended, at);
            settle();
          },
          (err: unknown) => {
            observer.failed(err);
            settle();
          },
        );
      }
      if (ended) {
        if (inFlight === 0) resolve();
        return;
      }
      // Timers fire a millisecond late or more, which a 10k msgs/s schedule cannot afford:
      // below 2 ms to the next send, yield to I/O with setImmediate (costs a busy core).
      const untilNext = schedule.intendedTime(index) - performance.now();
      if (untilNext > 2) setTimeout(tick, untilNext - 1);
      else setImmediate(tick);
    };
    tick();
  });
}
