import type { Socket } from 'node:net';
import type { Logger } from '../logger';
import type { RemotingMetrics } from '../metrics';
import {
  CommandError,
  createResponse,
  decodeCommand,
  encodeCommand,
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  isOneway,
  isResponse,
  type OutgoingCommand,
  type RemotingCommand,
} from '../protocol/command';
import { ResponseCode } from '../protocol/codes';
import { RemotingError } from '../protocol/errors';
import { FrameDecoder, FrameError } from '../protocol/frame';
import { HeaderError } from '../protocol/header-schema';
import { normalizeRemoteAddress } from './address';

/** What a connection does with a request it receives; the reply (if any) is sent back. */
export type RequestHandler = (
  request: RemotingCommand,
  connection: Connection,
) => Promise<OutgoingCommand | undefined> | OutgoingCommand | undefined;

export class RemotingTimeoutError extends Error {}
export class ConnectionClosedError extends Error {}

export interface ConnectionOptions {
  maxFrameSize: number;
  /** Close the connection after this long without any bytes read; 0 disables. */
  idleTimeoutMs: number;
  logger: Logger;
  metrics?: RemotingMetrics;
  onRequest: RequestHandler;
  /**
   * Stop reading (and dispatching) while our output to the peer is congested; default true.
   * Servers want this. A client must keep reading the responses it waits for whatever its
   * output does, or it and a server that stopped reading from it would wait on each other.
   */
  pauseWhenCongested?: boolean;
}

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

let nextOpaque = 1;

/** Opaques are process-wide and start at 1: ali-ons treats opaque 0 as "none" (§2.3). */
function allocateOpaque(): number {
  const opaque = nextOpaque;
  nextOpaque = nextOpaque >= 0x7fffffff ? 1 : nextOpaque + 1;
  return opaque;
}

/**
 * One remoting TCP connection, either end: framing, request dispatch, opaque-matched
 * responses, and server-initiated requests. A peer that sends an undecodable frame is logged,
 * counted and disconnected; nothing it sent can affect any other connection. When the socket
 * cannot take more output (the peer is not reading), reading from it pauses until it drains,
 * so a slow peer cannot make this process buffer without bound.
 */
export class Connection {
  readonly remoteAddress: string;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private readonly closeListeners: ((conn: Connection) => void)[] = [];
  private closed = false;
  /** Set by close() and by a rejected frame: nothing more is read or dispatched. */
  private closing = false;
  /** Requests read but not dispatched yet because our output to the peer is congested. */
  private backlog: RemotingCommand[] = [];
  private backlogStart = 0;
  /** The socket is corked until the next tick (see write). */
  private corked = false;

  constructor(
    readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.remoteAddress = normalizeRemoteAddress(socket.remoteAddress, socket.remotePort);
    this.decoder = new FrameDecoder(options.maxFrameSize);
    socket.setNoDelay(true);
    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs, () => {
        options.logger.info({ remote: this.remoteAddress }, 'closing idle connection');
        this.close();
      });
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => {
      options.logger.debug({ remote: this.remoteAddress, err: err.message }, 'socket error');
    });
    socket.on('close', () => this.onClose());
  }

  private get pausesWhenCongested(): boolean {
    return this.options.pauseWhenCongested ?? true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClosed(listener: (conn: Connection) => void): void {
    if (this.closed) listener(this);
    else this.closeListeners.push(listener);
  }

  /**
   * Writes a reply (or any command whose opaque is already set). Returns false once closed.
   * When the peer does not read what we write, reading from it pauses (and requests already
   * read wait undispatched) until the output drains, so a peer that keeps sending requests but
   * never reads the replies cannot make us buffer without bound. Throws if the command cannot
   * be encoded.
   */
  send(cmd: OutgoingCommand): boolean {
    if (this.closed || this.closing) return false;
    if (!this.write(cmd) && this.pausesWhenCongested) this.socket.pause();
    return true;
  }

  /**
   * Queues the frame; returns whether the socket's buffer is still below its high-water mark.
   * The socket stays corked until the current tick's work (this callback and its microtasks)
   * is done, so every frame written meanwhile leaves in one writev: one system call per burst
   * of requests or replies instead of one per frame, which was the largest CPU cost on both
   * sides under load.
   */
  private write(cmd: OutgoingCommand): boolean {
    const parts = encodeCommand(cmd);
    const socket = this.socket;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      if (corkedConnections.size === 0) process.nextTick(flushCorkedConnections);
      corkedConnections.add(this);
    }
    let flushed = true;
    for (const part of parts) flushed = socket.write(part);
    return flushed;
  }

  /** Sends what the current tick wrote (see write). */
  flushWrites(): void {
    if (!this.corked) return;
    this.corked = false;
    corkedConnections.delete(this);
    this.socket.uncork();
  }

  /**
   * Sends a request and resolves with the response that carries its opaque. Requests never
   * pause reading: the responses we wait for must keep flowing even while our output is
   * congested, or two peers that both stop reading would deadlock.
   */
  invoke(cmd: OutgoingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.closed || this.closing) {
      return Promise.reject(
        new ConnectionClosedError(`connection to ${this.remoteAddress} closed`),
      );
    }
    const opaque = allocateOpaque();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(opaque);
        reject(
          new RemotingTimeoutError(
            `request code ${cmd.code} to ${this.remoteAddress} timed out after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(opaque, { resolve, reject, timer });
      try {
        this.write({ ...cmd, opaque, flag: cmd.flag & ~FLAG_RESPONSE });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(opaque);
        reject(err as Error);
      }
    });
  }

  /** Sends a request that wants no response (flag bit 1). Returns false once closed. */
  invokeOneway(cmd: OutgoingCommand): boolean {
    if (this.closed || this.closing) return false;
    this.write({
      ...cmd,
      opaque: allocateOpaque(),
      flag: (cmd.flag | FLAG_ONEWAY) & ~FLAG_RESPONSE,
    });
    return true;
  }

  close(): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    // Hand what was written this tick to the kernel first, as an uncorked socket would have.
    this.flushWrites();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    // After a rejected frame the socket may still emit chunks it had buffered: drop them.
    if (this.closing) return;
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.reject(err as Error);
      return;
    }
    for (const frame of frames) {
      let cmd: RemotingCommand;
      try {
        cmd = decodeCommand(frame);
      } catch (err) {
        this.reject(err as Error);
        return;
      }
      if (isResponse(cmd)) this.onResponse(cmd);
      else this.backlog.push(cmd);
    }
    this.dispatchBacklog();
  }

  /**
   * Dispatches queued requests in order until the output is congested; then stops reading
   * and leaves the rest for the 'drain' event. Synchronous handlers write their reply before
   * the next request is dispatched, so a flood of requests stops at the high-water mark.
   */
  private dispatchBacklog(): void {
    while (this.backlogStart < this.backlog.length) {
      if (this.closing) return;
      if (this.pausesWhenCongested && this.socket.writableNeedDrain) {
        this.socket.pause();
        return;
      }
      const request = this.backlog[this.backlogStart++];
      this.handleRequest(request);
    }
    this.backlog = [];
    this.backlogStart = 0;
  }

  private onDrain(): void {
    if (this.closing) return;
    this.dispatchBacklog();
    if (this.backlogStart === 0 && !this.socket.writableNeedDrain) this.socket.resume();
  }

  private reject(err: Error): void {
    if (this.closing) return;
    const reason = err instanceof FrameError || err instanceof CommandError ? err.reason : 'decode';
    this.options.metrics?.badFrames.inc({ reason });
    this.options.logger.warn(
      { remote: this.remoteAddress, reason, err: err.message },
      'malformed frame, closing connection',
    );
    this.close();
  }

  private onResponse(cmd: RemotingCommand): void {
    const pending = this.pending.get(cmd.opaque);
    if (!pending) return; // late or unknown: every RocketMQ client ignores these too
    this.pending.delete(cmd.opaque);
    clearTimeout(pending.timer);
    pending.resolve(cmd);
  }

  /** Runs the handler; a synchronous reply is written before this returns. */
  private handleRequest(request: RemotingCommand): void {
    let result: ReturnType<RequestHandler>;
    try {
      result = this.options.onRequest(request, this);
    } catch (err) {
      this.replyError(request, err);
      return;
    }
    if (result instanceof Promise) {
      // One reaction per request and no `.catch` behind it: neither reaction can throw.
      result.then(
        (reply) => this.reply(request, reply),
        (err: unknown) => this.replyError(request, err),
      );
    } else {
      this.reply(request, result);
    }
  }

  /** Writes a handler's reply; never throws (a failure is logged). */
  private reply(request: RemotingCommand, reply: OutgoingCommand | undefined): void {
    if (!reply || isOneway(request)) return;
    try {
      this.send(reply);
    } catch (err) {
      // The handler's reply cannot be framed (e.g. a header over 16 MiB): say so instead.
      this.options.logger.error(
        { remote: this.remoteAddress, code: request.code, err: errorMessage(err) },
        'cannot encode response',
      );
      try {
        this.send(
          createResponse(request, ResponseCode.SYSTEM_ERROR, {
            remark: `cannot encode response: ${errorMessage(err)}`,
          }),
        );
      } catch (again) {
        this.options.logger.error(
          { remote: this.remoteAddress, err: errorMessage(again) },
          'request dispatch failed',
        );
      }
    }
  }

  /** Answers a failed handler; never throws. */
  private replyError(request: RemotingCommand, err: unknown): void {
    let reply: OutgoingCommand;
    try {
      reply = this.errorReply(request, err);
    } catch {
      // E.g. a thrown object whose toString throws: answer without its message.
      this.options.logger.error({ remote: this.remoteAddress }, 'request dispatch failed');
      reply = createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: 'request failed' });
    }
    this.reply(request, reply);
  }

  /** A handler's failure becomes an error response (§2.6); the connection stays open. */
  private errorReply(request: RemotingCommand, err: unknown): OutgoingCommand {
    const message = errorMessage(err);
    const log = { remote: this.remoteAddress, code: request.code, err: message };
    if (err instanceof RemotingError) {
      return createResponse(request, err.code, { remark: message });
    }
    if (err instanceof HeaderError) {
      this.options.metrics?.badFrames.inc({ reason: 'bad_header_field' });
      this.options.logger.warn(log, 'invalid request header');
    } else {
      const stack = err instanceof Error ? err.stack : undefined;
      this.options.logger.error({ ...log, stack }, 'request handler failed');
    }
    return createResponse(request, ResponseCode.SYSTEM_ERROR, { remark: message });
  }

  private onClose(): void {
    this.closed = true;
    this.closing = true;
    this.backlog = [];
    this.backlogStart = 0;
    for (const [, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionClosedError(`connection to ${this.remoteAddress} closed`));
    }
    this.pending.clear();
    for (const listener of this.closeListeners) listener(this);
    this.closeListeners.length = 0;
  }
}

/** Connections with frames written this tick and not yet handed to the kernel. */
const corkedConnections = new Set<Connection>();

function flushCorkedConnections(): void {
  for (const conn of corkedConnections) conn.flushWrites();
}

// An uncorked write reaches the kernel at once, so a process exiting right after a oneway send
// still sent it; keep that true for writes still corked when the process exits.
process.on('exit', flushCorkedConnections);

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
