import type { Logger } from '../../common/logger';

/**
 * How durable an acknowledgement must be. `async`: the target's throughput setting that still
 * stores to disk (scenarios 1, 4, 5: our ASYNC_FLUSH). `sync`: the strongest per-message
 * durability the target offers (scenario 3: our SYNC_FLUSH, fsync before the acknowledgement).
 */
export type Durability = 'async' | 'sync';

/** Everything a scenario process needs to reach a running server; travels as JSON. */
export interface Endpoint {
  target: string;
  durability: Durability;
  host: string;
  port: number;
  /** Target-specific settings the server was started with (queue type, topic…). */
  options: Record<string, string>;
}

/** A server the comparison started for one durability mode; it owns its process(es). */
export interface RunningServer {
  readonly endpoint: Endpoint;
  /** In words, what an acknowledgement means on this server, for the table. */
  readonly durabilityNote: string;
  /** Resident memory of the server's processes, in bytes, right now. */
  rss(): number;
  stop(): Promise<void>;
}

/**
 * The client side of a target, as the load generator drives it. Concurrency (the in-flight
 * window, N synchronous producers, a fixed rate) belongs to the load generator: it calls
 * `publish` that many times without waiting, so every target is loaded the same way.
 */
export interface BenchTarget {
  /** Opens connections and makes the destination (stream, queue, topic) exist and be empty. */
  connect(): Promise<void>;
  /** Sends one message; resolves when the server acknowledged it at the endpoint's durability. */
  publish(body: Buffer): Promise<void>;
  /** Sends the bodies as one batch (scenario 2); only targets with a batch API have it. */
  publishBatch?(bodies: Buffer[]): Promise<void>;
  /**
   * Delivers every message published from now on to `onMessage`, until `close`; a failure of
   * the background delivery goes to `onError`.
   */
  consume(onMessage: (body: Buffer) => void, onError: (err: Error) => void): Promise<void>;
  close(): Promise<void>;
}

/** Extras for a server start; targets that cannot honour one ignore it. */
export interface StartOptions {
  /** Write V8 CPU profiles of the server here (Node.js servers: `--cpu-prof`). */
  cpuProfileDir?: string;
}

/** One kind of broker the comparison can run: how to install and start it, and its client. */
export interface TargetKind {
  readonly name: string;
  /** Installs what is missing (Debian packages); throws with the reason when it cannot. */
  install(log: Logger): Promise<void>;
  /** Starts a fresh server on loopback, non-default ports, data under `workDir`. */
  start(
    durability: Durability,
    workDir: string,
    log: Logger,
    options?: StartOptions,
  ): Promise<RunningServer>;
  /** The client for a server started by `start` (in the scenario process). */
  client(endpoint: Endpoint): BenchTarget;
}
