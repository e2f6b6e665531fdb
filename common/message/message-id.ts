/**
 * Message ids (remoting.md §6.7): the broker's offsetMsgId, and the client-side UNIQ_KEY that
 * Java 4.x producers generate (`MessageClientIDSetter`), both upper-case hex.
 */
import { networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import { RecordError } from './errors';
import { formatIPv4, type HostAddress, hostIPv4, parseIPv4 } from './host';

const HEX = '0123456789ABCDEF';
const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >>> 4] + HEX[i & 15]);
const TWO_32 = 4294967296;

/** Eight upper-case hex digits of the low 32 bits of `n`. */
function hex32(n: number): string {
  return (
    BYTE_HEX[(n >>> 24) & 0xff] +
    BYTE_HEX[(n >>> 16) & 0xff] +
    BYTE_HEX[(n >>> 8) & 0xff] +
    BYTE_HEX[n & 0xff]
  );
}

/** Four upper-case hex digits of the low 16 bits of `n`. */
function hex16(n: number): string {
  return BYTE_HEX[(n >>> 8) & 0xff] + BYTE_HEX[n & 0xff];
}

/**
 * offsetMsgId = hex(storeHost IPv4(4) ‖ port(i32) ‖ physicalOffset(i64)), 32 upper-case chars,
 * e.g. `C0A8011400002A9F00000000000F4240` = 192.168.1.20:10911 at offset 1 000 000.
 */
export function createOffsetMsgId(storeHost: HostAddress, physicalOffset: number): string {
  const ip = hostIPv4(storeHost);
  const hi = Math.floor(physicalOffset / TWO_32);
  return hex32(ip) + hex32(storeHost.port) + hex32(hi) + hex32(physicalOffset - hi * TWO_32);
}

/** ASCII codes of the upper-case hex digits. */
const HEX_CODES = Buffer.from(HEX, 'latin1');

/** Writes the 8 hex digits of the low 32 bits of `n` at `pos`. */
function writeHex32(buf: Buffer, pos: number, n: number): void {
  for (let shift = 28, i = 0; i < 8; i++, shift -= 4) buf[pos + i] = HEX_CODES[(n >>> shift) & 15];
}

/**
 * The offsetMsgIds of records at `physicalOffsets` on one store host, comma-joined (a batch's
 * msgId): written as ASCII into one buffer and decoded once, so a 32-message batch costs one
 * string instead of 32 ids and their joins.
 */
export function createOffsetMsgIds(
  storeHost: HostAddress,
  physicalOffsets: readonly number[],
): string {
  const ip = hostIPv4(storeHost);
  const n = physicalOffsets.length;
  if (n === 0) return '';
  const buf = Buffer.allocUnsafe(n * 33 - 1);
  writeHex32(buf, 0, ip);
  writeHex32(buf, 8, storeHost.port);
  for (let i = 0; i < n; i++) {
    const pos = i * 33;
    // Every id starts with the same host: copy it rather than format it again.
    if (i > 0) {
      buf[pos - 1] = 0x2c; // ','
      buf.copy(buf, pos, 0, 16);
    }
    const offset = physicalOffsets[i];
    const hi = Math.floor(offset / TWO_32);
    writeHex32(buf, pos + 16, hi);
    writeHex32(buf, pos + 24, offset - hi * TWO_32);
  }
  return buf.toString('latin1');
}

const HEX_ID = /^[0-9A-Fa-f]+$/;

/**
 * Decodes an offsetMsgId: 32 hex chars (IPv4 store host) or 56 (IPv6, as a Java broker with an
 * IPv6 address makes; the ip is then uncompressed IPv6 text). Either case of hex is accepted.
 * Throws RecordError for anything else.
 */
export function decodeOffsetMsgId(id: string): { host: HostAddress; physicalOffset: number } {
  if ((id.length !== 32 && id.length !== 56) || !HEX_ID.test(id)) {
    throw new RecordError(`malformed offset message id ${JSON.stringify(id)}`);
  }
  const bytes = Buffer.from(id, 'hex');
  const ipLength = bytes.length - 12;
  let ip: string;
  if (ipLength === 4) {
    ip = formatIPv4(bytes.readUInt32BE(0));
  } else {
    ip = bytes.readUInt16BE(0).toString(16);
    for (let i = 2; i < 16; i += 2) ip += ':' + bytes.readUInt16BE(i).toString(16);
  }
  return {
    host: { ip, port: bytes.readInt32BE(ipLength) },
    physicalOffset: bytes.readInt32BE(ipLength + 4) * TWO_32 + bytes.readUInt32BE(ipLength + 8),
  };
}

/** Start of the month containing `ms`, in local time (Java uses a default-zone `Calendar`). */
function monthStart(ms: number, monthDelta = 0): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth() + monthDelta, 1).getTime();
}

let uniqPrefix: string | undefined;
let counter = 0;
let startTime = 0;
let nextStartTime = 0;

/** The process's first non-internal IPv4 address, 127.0.0.1 if it has none. */
export function localIPv4(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return '127.0.0.1';
}

/**
 * A client message id (UNIQ_KEY) in the Java 4.x format: hex(IPv4(4) ‖ pid(i16) ‖ per-process
 * random int32 (Java: the class loader's hash) ‖ ms since the start of the current month, local
 * time (i32) ‖ counter(i16)), 32 upper-case chars.
 */
export function createUniqKey(now = Date.now()): string {
  if (uniqPrefix === undefined) {
    uniqPrefix =
      hex32(parseIPv4(localIPv4())) +
      hex16(process.pid) +
      randomBytes(4).toString('hex').toUpperCase();
    counter = randomBytes(2).readUInt16BE(0);
  }
  if (now >= nextStartTime || now < startTime - 1_000_000) {
    startTime = monthStart(now);
    nextStartTime = monthStart(now, 1);
  }
  let diff = now - startTime;
  // Java: a clock stepped back a little (NTP) yields 0 rather than a negative time.
  if (diff < 0) diff = 0;
  const key = uniqPrefix + hex32(diff) + hex16(counter);
  counter = (counter + 1) & 0xffff;
  return key;
}

/**
 * The approximate creation time embedded in a Java-format UNIQ_KEY (32 hex chars, or 56 with an
 * IPv6 address), as Java's `getNearlyTimeFromID` computes it: the embedded ms-since-month-start
 * added to the start of the current month (local time), or of the previous month if that would be
 * in the future. `undefined` if `uniqKey` is not in that format (e.g. ali-ons keys).
 */
export function uniqKeyTimestamp(uniqKey: string, now = Date.now()): number | undefined {
  if ((uniqKey.length !== 32 && uniqKey.length !== 56) || !HEX_ID.test(uniqKey)) return undefined;
  const at = uniqKey.length === 32 ? 20 : 44;
  const span = parseInt(uniqKey.slice(at, at + 8), 16);
  let start = monthStart(now);
  if (start + span >= now) start = monthStart(now, -1);
  return start + span;
}
