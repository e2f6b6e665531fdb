/**
 * The master side of replication (broker-internals.md §5.2–§5.4): accepts slave connections on
 * the HA port, streams CommitLog bytes from where each slave says it is, records each slave's
 * acknowledged offset, and completes SYNC_MASTER puts once a slave has their bytes.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../common/logger';
import type { MessageStore } from '../store/message-store';
import { PutMessageStatus } from '../store/status';
import type { HaMetrics } from './ha-metrics';
import {
  encodeFrameHeader,
  HEARTBEAT_INTERVAL_MS,
  HOUSEKEEPING_INTERVAL_MS,
  ReportReader,
  SLAVE_FALLBEHIND_MAX,
  TRANSFER_BATCH_SIZE,
} from './ha-protocol';

/** With no new data a connection's writer sleeps at most this long before looking again. */
const IDLE_WAIT_MS = 100;

export interface HaServerOptions {
  store: MessageStore;
  /** mappedFileSizeCommitLog: a new slave starts at the beginning of the last file. */
  fileSize: number;
  /** How long a SYNC_MASTER put waits for a slave (slaveTimeout). */
  slaveTimeoutMs: number;
  logger: Logger;
  metrics: HaMetrics;
  /** Only a master streams; connections are refused and dropped otherwise. */
  isMaster(): boolean;
}

/** A connected slave as the master sees it. */
export interface SlaveState {
  addr: string;
  /** Last offset the slave reported having (−1 before its first report). */
  ackOffset: number;
  /** Last time its acknowledged offset reached the master's end. */
  lastCaughtUpAt: number;
}

interface SyncWaiter {
  end: number;
  timer: NodeJS.Timeout;
  resolve(status: PutMessageStatus): void;
}

export class HaServer {
  private server: Server | undefined;
  private readonly connections = new Set<SlaveConnection>();
  private waiters: SyncWaiter[] = [];
  private housekeeping: NodeJS.Timeout | undefined;
  /** Highest offset any slave acknowledged (push2SlaveMaxOffset). */
  private ackedMax = 0;

  constructor(private readonly opts: HaServerOptions) {}

  async listen(port: number, host: string): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => this.opts.logger.error({ err }, 'HA server error'));
    this.housekeeping = setInterval(() => this.housekeep(), 1000);
    this.housekeeping.unref();
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : port;
  }

  /** push2SlaveMaxOffset: the highest offset a slave has acknowledged. */
  get confirmedOffset(): number {
    return this.ackedMax;
  }

  slaves(): SlaveState[] {
    return [...this.connections].map((c) => ({
      addr: c.addr,
      ackOffset: c.ackOffset,
      lastCaughtUpAt: c.lastCaughtUpAt,
    }));
  }

  /** New bytes were written: wake the connection writers. */
  notifyNewData(): void {
    for (const c of this.connections) c.wake();
  }

  /**
   * SYNC_MASTER (§5.4, 4.x rules): PUT_OK once a slave acknowledged `end`; SLAVE_NOT_AVAILABLE
   * at once when no slave is connected or every slave is too far behind; FLUSH_SLAVE_TIMEOUT
   * after slaveTimeout.
   */
  waitForSlave(end: number): Promise<PutMessageStatus> {
    if (this.ackedMax >= end) return Promise.resolve(PutMessageStatus.PUT_OK);
    if (this.connections.size === 0 || end - this.ackedMax >= SLAVE_FALLBEHIND_MAX) {
      return Promise.resolve(PutMessageStatus.SLAVE_NOT_AVAILABLE);
    }
    return new Promise((resolve) => {
      const waiter: SyncWaiter = {
        end,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(PutMessageStatus.FLUSH_SLAVE_TIMEOUT);
        }, this.opts.slaveTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Stepping down (a higher epoch exists): drop every slave and fail the puts still waiting, so
   * nothing is acknowledged from here on.
   */
  stepDown(): void {
    for (const c of this.connections) c.close('the broker is no longer master');
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(PutMessageStatus.SERVICE_NOT_AVAILABLE);
    }
    this.waiters = [];
  }

  /** A new epoch began on this broker: acknowledgements from earlier streams no longer count. */
  resetAcks(): void {
    this.ackedMax = 0;
  }

  async close(): Promise<void> {
    clearInterval(this.housekeeping);
    this.stepDown();
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const addr = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    if (!this.opts.isMaster()) {
      this.opts.logger.warn({ slave: addr }, 'HA connection refused: this broker is not master');
      socket.destroy();
      return;
    }
    const conn = new SlaveConnection(socket, addr, this.opts, (c) => this.acked(c));
    this.connections.add(conn);
    socket.once('close', () => {
      this.connections.delete(conn);
      this.opts.metrics.forget(addr);
      this.opts.logger.info({ slave: addr, ackOffset: conn.ackOffset }, 'slave disconnected');
    });
    this.opts.logger.info({ slave: addr }, 'slave connected');
  }

  private acked(conn: SlaveConnection): void {
    if (conn.ackOffset <= this.ackedMax) return;
    this.ackedMax = conn.ackOffset;
    if (this.waiters.length === 0) return;
    const still: SyncWaiter[] = [];
    for (const w of this.waiters) {
      if (w.end <= this.ackedMax) {
        clearTimeout(w.timer);
        w.resolve(PutMessageStatus.PUT_OK);
      } else still.push(w);
    }
    this.waiters = still;
  }

  private housekeep(): void {
    const now = Date.now();
    const max = this.opts.store.getMaxPhyOffset();
    for (const c of this.connections) {
      if (now - c.lastReadAt > HOUSEKEEPING_INTERVAL_MS) {
        c.close(`nothing read for ${HOUSEKEEPING_INTERVAL_MS} ms`);
        continue;
      }
      if (!this.opts.isMaster()) {
        c.close('the broker is no longer master');
        continue;
      }
      if (c.ackOffset >= max) c.lastCaughtUpAt = now;
      const lagBytes = c.ackOffset < 0 ? max : max - c.ackOffset;
      this.opts.metrics.setLag(
        c.addr,
        lagBytes,
        lagBytes > 0 ? (now - c.lastCaughtUpAt) / 1000 : 0,
      );
    }
  }
}

/** One slave: reads its reports, writes frames from its position on. */
class SlaveConnection {
  ackOffset = -1;
  lastReadAt = Date.now();
  lastCaughtUpAt = Date.now();
  private nextOffset = -1;
  private lastWriteAt = 0;
  private closed = false;
  private readonly reports = new ReportReader();
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly socket: Socket,
    readonly addr: string,
    private readonly opts: HaServerOptions,
    private readonly onAck: (c: SlaveConnection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.once('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.logger.warn({ slave: this.addr, reason }, 'closing HA connection');
    this.socket.destroy();
    this.wake();
  }

  private onData(data: Buffer): void {
    this.lastReadAt = Date.now();
    let offset: number | undefined;
    try {
      offset = this.reports.push(data);
    } catch (err) {
      this.close((err as Error).message);
      return;
    }
    if (offset === undefined) return;
    if (this.nextOffset < 0) {
      this.start(offset);
      if (this.closed) return;
    }
    this.ackOffset = offset;
    if (offset >= this.opts.store.getMaxPhyOffset()) this.lastCaughtUpAt = Date.now();
    this.onAck(this);
  }

  /** The first report says where the slave is (§5.2 start point). */
  private start(reported: number): void {
    const { store, fileSize, logger } = this.opts;
    const max = store.getMaxPhyOffset();
    if (reported > max) {
      this.close(`slave reports offset ${reported} beyond the master's end ${max}`);
      return;
    }
    this.nextOffset = reported === 0 ? max - (max % fileSize) : reported;
    logger.info({ slave: this.addr, reported, from: this.nextOffset }, 'slave starts transfer');
    void this.transfer().catch((err: unknown) =>
      this.close(`transfer failed: ${(err as Error).message}`),
    );
  }

  private async transfer(): Promise<void> {
    const { store } = this.opts;
    while (!this.closed) {
      const data = await store.getCommitLogData(this.nextOffset, TRANSFER_BATCH_SIZE);
      if (this.closed) return;
      if (data !== undefined && data.length > 0) {
        const ok = this.socket.write(encodeFrameHeader(this.nextOffset, data.length));
        const ok2 = this.socket.write(data);
        this.nextOffset += data.length;
        this.lastWriteAt = Date.now();
        if (!ok || !ok2) await this.drained();
        continue;
      }
      if (Date.now() - this.lastWriteAt >= HEARTBEAT_INTERVAL_MS) {
        this.socket.write(encodeFrameHeader(this.nextOffset, 0));
        this.lastWriteAt = Date.now();
      }
      await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, IDLE_WAIT_MS);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }
}
