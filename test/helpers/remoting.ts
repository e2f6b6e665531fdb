import { connect, type Socket } from 'node:net';
import type { Counter, Registry } from 'prom-client';
import { createLogger, type Logger } from '../../common/logger';
import { createRegistry, createRemotingMetrics, type RemotingMetrics } from '../../common/metrics';
import { RemotingClient, type RemotingClientOptions } from '../../common/net/client';
import { RemotingServer, type RemotingServerOptions } from '../../common/net/server';
import { decodeCommand, type RemotingCommand } from '../../common/protocol/command';
import { FrameDecoder } from '../../common/protocol/frame';

export const silentLogger: Logger = createLogger('test', 'silent');

export interface TestServer {
  server: RemotingServer;
  port: number;
  address: string;
  registry: Registry;
  metrics: RemotingMetrics;
}

/** A RemotingServer with its own metrics registry, listening on 127.0.0.1 and a free port. */
export async function startServer(
  setup: (server: RemotingServer) => void = () => undefined,
  options: Partial<RemotingServerOptions> = {},
): Promise<TestServer> {
  const registry = createRegistry('test');
  const metrics = createRemotingMetrics(registry);
  const server = new RemotingServer({ logger: silentLogger, metrics, ...options });
  setup(server);
  const port = await server.listen(0, '127.0.0.1');
  return { server, port, address: `127.0.0.1:${port}`, registry, metrics };
}

export function newClient(options: Partial<RemotingClientOptions> = {}): RemotingClient {
  return new RemotingClient({ logger: silentLogger, ...options });
}

/** The value of a counter for the given labels, or summed over all labels. */
export async function counterValue(
  counter: Counter<string>,
  labels?: Record<string, string>,
): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => !labels || Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every few ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * A raw TCP peer that writes bytes as it is told and decodes whatever comes back, for tests
 * that need to control the wire exactly (malformed input, not reading, pipelining).
 */
export class RawPeer {
  readonly received: RemotingCommand[] = [];
  readonly closed: Promise<void>;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private waiters: (() => void)[] = [];
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.received.push(decodeCommand(frame));
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(port: number, options: { read?: boolean } = {}): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const peer = new RawPeer(socket);
        if (options.read === false) socket.pause();
        resolve(peer);
      });
    });
  }

  write(data: Buffer | readonly Buffer[]): void {
    for (const b of Buffer.isBuffer(data) ? [data] : data) this.socket.write(b);
  }

  /** Resolves once `count` commands have been received (or rejects when the socket closes). */
  async waitForResponses(count: number, timeoutMs = 5000): Promise<RemotingCommand[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (this.isClosed) throw new Error(`closed after ${this.received.length}/${count} replies`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`got ${this.received.length}/${count} replies in time`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.slice(0, count);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
