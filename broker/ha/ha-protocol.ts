/**
 * The classic HA wire protocol (broker-internals.md §5.2): raw TCP, no remoting frames. The
 * slave sends 8-byte big-endian offset reports; the master sends `[int64 phyOffset][int32
 * bodySize][body]` frames of raw CommitLog bytes (bodySize 0 = heartbeat).
 */
import { readInt64BE, writeInt64BE } from '../../common/message/int64';

export const REPORT_SIZE = 8;
export const FRAME_HEADER_SIZE = 12;
/** Largest body of one frame (haTransferBatchSize). */
export const TRANSFER_BATCH_SIZE = 32 * 1024;
/** Heartbeat / report period when nothing else is sent (haSendHeartbeatInterval). */
export const HEARTBEAT_INTERVAL_MS = 5000;
/** A side that read nothing for this long closes the connection (haHousekeepingInterval). */
export const HOUSEKEEPING_INTERVAL_MS = 20_000;
/** A master this far ahead of every slave answers SYNC puts SLAVE_NOT_AVAILABLE (§5.4). */
export const SLAVE_FALLBEHIND_MAX = 256 * 1024 * 1024;
/** Largest frame body a slave accepts: a bigger size means a broken stream. */
export const MAX_FRAME_BODY = 4 * 1024 * 1024;

export function encodeReport(offset: number): Buffer {
  const buf = Buffer.allocUnsafe(REPORT_SIZE);
  writeInt64BE(buf, 0, offset);
  return buf;
}

export function encodeFrameHeader(phyOffset: number, bodySize: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  writeInt64BE(buf, 0, phyOffset);
  buf.writeInt32BE(bodySize, 8);
  return buf;
}

/** One frame read from the master. */
export interface HaFrame {
  phyOffset: number;
  body: Buffer;
}

/** Splits the master's byte stream into frames; throws on a size no master sends. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(data: Buffer): HaFrame[] {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    const frames: HaFrame[] = [];
    let pos = 0;
    while (this.buf.length - pos >= FRAME_HEADER_SIZE) {
      const phyOffset = readInt64BE(this.buf, pos);
      const size = this.buf.readInt32BE(pos + 8);
      if (size < 0 || size > MAX_FRAME_BODY || phyOffset < 0) {
        throw new Error(`bad HA frame header: offset ${phyOffset}, size ${size}`);
      }
      if (this.buf.length - pos < FRAME_HEADER_SIZE + size) break;
      const start = pos + FRAME_HEADER_SIZE;
      frames.push({ phyOffset, body: this.buf.subarray(start, start + size) });
      pos = start + size;
    }
    this.buf = this.buf.subarray(pos);
    return frames;
  }
}

/** Takes the last complete 8-byte report out of what the slave sent (§5.2). */
export class ReportReader {
  private pending: Buffer = Buffer.alloc(0);

  /** The newest complete report in `data`, or undefined if none completed. */
  push(data: Buffer): number | undefined {
    const buf = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    const whole = buf.length - (buf.length % REPORT_SIZE);
    this.pending = Buffer.from(buf.subarray(whole));
    if (whole === 0) return undefined;
    const offset = readInt64BE(buf, whole - REPORT_SIZE);
    if (offset < 0) throw new Error(`bad HA offset report ${offset}`);
    return offset;
  }
}
