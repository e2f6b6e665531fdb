/**
 * A per-object work queue in the style of client-go's: a key is queued at most once, never
 * processed by two workers at once (a key re-added while in flight runs again afterwards), and
 * failures retry with exponential backoff per key until `forget`.
 */
export interface WorkQueueOptions {
  concurrency: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type Outcome = { requeueAfterMs?: number } | void;

export class WorkQueue {
  private readonly queued: string[] = [];
  private readonly queuedSet = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly dirtyWhileInFlight = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private active = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly process: (key: string) => Promise<Outcome>,
    private readonly onError: (key: string, err: unknown, retryInMs: number) => void,
    private readonly options: WorkQueueOptions = {
      concurrency: 2,
      baseDelayMs: 200,
      maxDelayMs: 60_000,
    },
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirtyWhileInFlight.add(key);
      return;
    }
    if (this.queuedSet.has(key)) return;
    this.queuedSet.add(key);
    this.queued.push(key);
    this.pump();
  }

  /**
   * Adds the key after a delay. One timer per key: of a pending delay and a new one, the one
   * due first wins (a periodic refresh must not hold back a step that asked to run sooner).
   */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending !== undefined) {
      if (pending.due <= due) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  /** The delay before the next retry of a key that failed `failures` times in a row. */
  backoff(failures: number): number {
    return Math.min(
      this.options.maxDelayMs,
      this.options.baseDelayMs * 2 ** Math.max(0, failures - 1),
    );
  }

  get length(): number {
    return this.queued.length;
  }

  /** Resolves when nothing is queued or running (timers may still be pending). */
  idle(): Promise<void> {
    if (this.active === 0 && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queued.length = 0;
    this.queuedSet.clear();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.options.concurrency && this.queued.length > 0) {
      const key = this.queued.shift() as string;
      this.queuedSet.delete(key);
      this.inFlight.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.active === 0 && this.queued.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const outcome = await this.process(key);
      this.failures.delete(key);
      if (outcome?.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
    } catch (err) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delay = this.backoff(failures);
      this.onError(key, err, delay);
      this.addAfter(key, delay);
    } finally {
      this.inFlight.delete(key);
      this.active--;
      if (this.dirtyWhileInFlight.delete(key)) this.add(key);
      this.pump();
    }
  }
}
