import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger';
import type { RemotingMetrics } from '../metrics';
import { requestCodeName, ResponseCode } from '../protocol/codes';
import { createResponse, type RemotingCommand } from '../protocol/command';
import { DEFAULT_MAX_FRAME_SIZE } from '../protocol/frame';
import { Connection, type RequestHandler } from './connection';

export interface RemotingServerOptions {
  logger: Logger;
  metrics?: RemotingMetrics;
  maxFrameSize?: number;
  /** RocketMQ closes channels idle for 120 s (`serverChannelMaxIdleTimeSeconds`). */
  idleTimeoutMs?: number;
}

/**
 * A remoting TCP server: accepts connections and dispatches each request by its code to the
 * registered handler; unknown codes are answered REQUEST_CODE_NOT_SUPPORTED (§2.6).
 */
export class RemotingServer {
  private readonly handlers = new Map<number, RequestHandler>();
  private readonly connections = new Set<Connection>();
  private readonly connectionClosedListeners: ((conn: Connection) => void)[] = [];
  private readonly servers: Server[] = [];

  constructor(private readonly options: RemotingServerOptions) {}

  register(code: number, handler: RequestHandler): this {
    this.handlers.set(code, handler);
    return this;
  }

  onConnectionClosed(listener: (conn: Connection) => void): void {
    this.connectionClosedListeners.push(listener);
  }

  get openConnections(): ReadonlySet<Connection> {
    return this.connections;
  }

  /** Listens on one more port (a broker also listens on listenPort − 2); returns the port. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.options.logger.error({ err }, 'server socket error'));
    this.servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const conn of this.connections) conn.close();
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    this.servers.length = 0;
  }

  private accept(socket: Socket): void {
    const { logger, metrics } = this.options;
    const conn = new Connection(socket, {
      maxFrameSize: this.options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      idleTimeoutMs: this.options.idleTimeoutMs ?? 120_000,
      logger,
      metrics,
      onRequest: (request, connection) => this.dispatch(request, connection),
    });
    this.connections.add(conn);
    metrics?.connections.inc({ event: 'open' });
    logger.debug({ remote: conn.remoteAddress }, 'connection opened');
    conn.onClosed(() => {
      this.connections.delete(conn);
      metrics?.connections.inc({ event: 'close' });
      logger.debug({ remote: conn.remoteAddress }, 'connection closed');
      for (const listener of this.connectionClosedListeners) listener(conn);
    });
  }

  private dispatch(request: RemotingCommand, connection: Connection) {
    const handler = this.handlers.get(request.code);
    // Label only codes we serve: a peer sending random codes must not create a series per code.
    this.options.metrics?.countRequest(handler ? requestCodeName(request.code) : 'unsupported');
    if (!handler) {
      return createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
        remark: ` request type ${request.code} not supported`,
      });
    }
    return handler(request, connection);
  }
}
