import { connect } from 'node:net';
import type { Logger } from '../logger';
import { ResponseCode } from '../protocol/codes';
import { createResponse, type OutgoingCommand, type RemotingCommand } from '../protocol/command';
import { DEFAULT_MAX_FRAME_SIZE } from '../protocol/frame';
import { splitAddress } from './address';
import { Connection, type RequestHandler } from './connection';

export interface RemotingClientOptions {
  logger: Logger;
  connectTimeoutMs?: number;
  maxFrameSize?: number;
  /** Handles requests the server sends us (NOTIFY_CONSUMER_IDS_CHANGED, transaction checks…). */
  onRequest?: RequestHandler;
}

/**
 * A remoting client: one pooled connection per server address, created on first use and
 * re-created on the next call after it closes (that is the reconnect).
 */
export class RemotingClient {
  private readonly pool = new Map<string, Promise<Connection>>();
  /** The pool's connections that are established: requests on them skip an await. */
  private readonly ready = new Map<string, Connection>();
  private closed = false;

  constructor(private readonly options: RemotingClientOptions) {}

  invoke(address: string, cmd: OutgoingCommand, timeoutMs = 3000): Promise<RemotingCommand> {
    const ready = this.ready.get(address);
    if (ready !== undefined) return ready.invoke(cmd, timeoutMs);
    return this.connection(address).then((conn) => conn.invoke(cmd, timeoutMs));
  }

  async invokeOneway(address: string, cmd: OutgoingCommand): Promise<void> {
    const conn = await this.connection(address);
    conn.invokeOneway(cmd);
  }

  /** The pooled connection to `address`, connecting if there is none. */
  connection(address: string): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('remoting client is closed'));
    const existing = this.pool.get(address);
    if (existing) return existing;
    const forget = () => {
      if (this.pool.get(address) === conn) {
        this.pool.delete(address);
        this.ready.delete(address);
      }
    };
    const conn = this.connect(address, forget);
    this.pool.set(address, conn);
    conn.then(
      (c) => {
        if (this.pool.get(address) === conn && !c.isClosed) this.ready.set(address, c);
      },
      () => undefined,
    );
    conn.catch(forget);
    return conn;
  }

  close(): void {
    this.closed = true;
    this.ready.clear();
    for (const conn of this.pool.values()) conn.then((c) => c.close()).catch(() => undefined);
    this.pool.clear();
  }

  private connect(address: string, onClosed: () => void): Promise<Connection> {
    const { host, port } = splitAddress(address);
    const timeoutMs = this.options.connectTimeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${address} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`connect to ${address} failed: ${err.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        const conn = new Connection(socket, {
          maxFrameSize: this.options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
          idleTimeoutMs: 0,
          logger: this.options.logger,
          pauseWhenCongested: false,
          onRequest:
            this.options.onRequest ??
            ((request) =>
              createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, {
                remark: ` request type ${request.code} not supported`,
              })),
        });
        conn.onClosed(onClosed);
        resolve(conn);
      });
    });
  }
}
