import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** Bytes 0–7 of every body: the send time (stampClock(), float64 LE). */
const STAMP_BYTES = 8;
const POOL_BYTES = 1 << 20;

/**
 * Message bodies of a fixed size, incompressible (slices of one random megabyte at a rolling
 * offset, so consecutive bodies differ), each stamped with its send time for end-to-end
 * latency.
 */
export class PayloadFactory {
  private readonly pool = randomBytes(POOL_BYTES);
  private offset = 0;

  constructor(readonly size: number) {
    if (size < STAMP_BYTES || size > POOL_BYTES) {
      throw new RangeError(`message size must be ${STAMP_BYTES}..${POOL_BYTES} bytes, got ${size}`);
    }
  }

  /** A fresh body (clients may keep a reference until it is written), stamped now. */
  next(): Buffer {
    const body = Buffer.allocUnsafe(this.size);
    if (this.offset + this.size > POOL_BYTES) this.offset = 0;
    this.pool.copy(body, 0, this.offset, this.offset + this.size);
    this.offset += 61; // an odd step, so bodies do not repeat with any short period
    body.writeDoubleLE(stampClock(), 0);
    return body;
  }
}

/**
 * Milliseconds since the epoch with sub-microsecond resolution (the monotonic clock anchored at
 * process start), so a consumer in another process on the same machine can compare stamps.
 */
export function stampClock(): number {
  return performance.timeOrigin + performance.now();
}

/** A stamp older than this, or from the future, is not one of ours. */
const PLAUSIBLE_AGE_MS = 3_600_000;

/**
 * Milliseconds from the send stamped into `body` by PayloadFactory.next() until `nowMs`
 * (a stampClock() reading); undefined for a body that does not carry a plausible stamp, or
 * was stamped before `sinceMs` (a backlog from an earlier run).
 */
export function ageOf(
  body: Buffer,
  nowMs: number,
  sinceMs = nowMs - PLAUSIBLE_AGE_MS,
): number | undefined {
  if (body.length < STAMP_BYTES) return undefined;
  const stamp = body.readDoubleLE(0);
  if (!(stamp >= sinceMs && stamp <= nowMs + 1)) return undefined;
  return Math.max(0, nowMs - stamp);
}
