/**
 * The slave side of replication (broker-internals.md §5.2): connects to the master's HA
 * address, reports its CommitLog end, appends the streamed bytes at the same offsets (its own
 * dispatcher builds ConsumeQueues and indexes) and reports again after each batch.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../common/logger';
import { splitAddress } from '../../common/net/address';
import type { MessageStore } from '../store/message-store';
import {
  encodeReport,
  FrameReader,
  type HaFrame,
  HEARTBEAT_INTERVAL_MS,
  HOUSEKEEPING_INTERVAL_MS,
} from './ha-protocol';

/** Pause between connection attempts (RocketMQ retries every 5 s). */
const RECONNECT_INTERVAL_MS = 5000;

export class HaClient {
  private master: string | undefined;
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastConnectAt = 0;
  private lastReadAt = 0;
  private lastReportAt = 0;
  private reader = new FrameReader();
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: MessageStore,
    private readonly logger: Logger,
  ) {}

  /** The master's HA address now (undefined: none known). */
  get masterHaAddress(): string | undefined {
    return this.master;
  }

  /** Follows `haAddress` from now on; a different one drops the current connection. */
  setMaster(haAddress: string | undefined): void {
    if (haAddress === this.master) return;
    this.logger.info({ from: this.master, to: haAddress }, 'HA master address changed');
    this.master = haAddress;
    this.disconnect();
    this.lastConnectAt = 0;
    this.start();
    this.tick();
  }

  /** Stops following any master and waits for the bytes in hand to be appended. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.master = undefined;
    this.disconnect();
    await this.applying;
  }

  private start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    if (this.socket === undefined) {
      if (this.master !== undefined && now - this.lastConnectAt >= RECONNECT_INTERVAL_MS) {
        this.connectTo(this.master);
      }
      return;
    }
    if (now - this.lastReadAt > HOUSEKEEPING_INTERVAL_MS) {
      this.logger.warn(
        { master: this.master },
        'nothing read from the master for 20 s; reconnecting',
      );
      this.disconnect();
      return;
    }
    if (now - this.lastReportAt >= HEARTBEAT_INTERVAL_MS) this.report();
  }

  private connectTo(address: string): void {
    this.lastConnectAt = Date.now();
    const { host, port } = splitAddress(address);
    const socket = connect({ host, port });
    this.socket = socket;
    this.reader = new FrameReader();
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.lastReadAt = Date.now();
      this.logger.info(
        { master: address, offset: this.store.getMaxPhyOffset() },
        'connected to master',
      );
      this.report();
    });
    socket.on('data', (data: Buffer) => this.onData(socket, data));
    socket.on('error', (err) =>
      this.logger.warn({ master: address, err: err.message }, 'HA connection error'),
    );
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
    });
  }

  private disconnect(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private report(): void {
    if (this.socket === undefined || this.socket.connecting) return;
    this.socket.write(encodeReport(this.store.getMaxPhyOffset()));
    this.lastReportAt = Date.now();
  }

  private onData(socket: Socket, data: Buffer): void {
    if (socket !== this.socket) return;
    this.lastReadAt = Date.now();
    let frames: HaFrame[];
    try {
      frames = this.reader.push(data);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'bad data from the master; reconnecting');
      this.disconnect();
      return;
    }
    if (frames.every((f) => f.body.length === 0)) return;
    // Copies: the frames are views of a socket buffer the next read may reuse.
    const batch = frames
      .filter((f) => f.body.length > 0)
      .map((f) => ({ phyOffset: f.phyOffset, body: Buffer.from(f.body) }));
    this.applying = this.applying.then(() => this.apply(socket, batch));
  }

  /** Appends the frames in order, then reports the new end (§5.2 "slave apply"). */
  private async apply(socket: Socket, frames: HaFrame[]): Promise<void> {
    if (socket !== this.socket) return;
    let last: Promise<void> | undefined;
    try {
      for (const f of frames) {
        const end = this.store.getMaxPhyOffset();
        if (end === 0 && f.phyOffset !== 0 && last === undefined) {
          await this.store.startCommitLogAt(f.phyOffset);
        } else if (end !== f.phyOffset) {
          this.logger.error(
            { pushed: f.phyOffset, slaveEnd: end },
            'master pushed offset not equal the max phy offset in slave; reconnecting',
          );
          this.disconnect();
          break;
        }
        last = this.store.appendReplicated(f.phyOffset, f.body);
      }
      if (last !== undefined) await last;
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'appending replicated bytes failed');
      this.disconnect();
      return;
    }
    this.report();
  }
}
