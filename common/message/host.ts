/**
 * Born/store host addresses in message records (remoting.md §6.1). We always write 8-byte IPv4
 * hosts (4 address bytes + int32 port) and never set the v6 sysFlag bits, because ali-ons reads
 * every host as IPv4 whatever the flags say.
 */
import { RecordError } from './errors';

export interface HostAddress {
  /** Dotted IPv4. (Records from a Java broker with a v6 sysFlag bit decode to an IPv6 text.) */
  ip: string;
  port: number;
}

/** Bytes a host takes in a record: 8 for IPv4, 20 for IPv6. */
export const IPV4_HOST_LENGTH = 8;
export const IPV6_HOST_LENGTH = 20;

/** A dotted IPv4 address as an unsigned 32-bit number, or -1 if `ip` is not one. */
export function parseIPv4(ip: string): number {
  const len = ip.length;
  if (len < 7 || len > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** Dotted form of an unsigned 32-bit IPv4 address. */
export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** Parses `"1.2.3.4:10911"`; throws RecordError unless it is a dotted IPv4 and a port 0..65535. */
export function parseHostAddress(s: string): HostAddress {
  const colon = s.lastIndexOf(':');
  const ip = colon > 0 ? s.slice(0, colon) : '';
  const portText = s.slice(colon + 1);
  const port = Number(portText);
  if (parseIPv4(ip) < 0 || !/^\d{1,5}$/.test(portText) || port > 65535) {
    throw new RecordError(`not an IPv4 host:port address: ${JSON.stringify(s)}`);
  }
  return { ip, port };
}

export function formatHostAddress(h: HostAddress): string {
  return `${h.ip}:${h.port}`;
}

const MAPPED_DOTTED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/**
 * The IPv4 address to record for a socket's `remoteAddress`: an IPv4 as is, an IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`, Node's form for IPv4 peers on a dual-stack socket) as its IPv4, `::1` as
 * 127.0.0.1, and anything else (a genuine IPv6 peer, undefined) as 0.0.0.0 — losing the address
 * but keeping records readable by clients that only understand IPv4 hosts.
 */
export function normalizeIPv4(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '0.0.0.0';
  if (parseIPv4(remoteAddress) >= 0) return remoteAddress;
  if (remoteAddress === '::1') return '127.0.0.1';
  let m = MAPPED_DOTTED.exec(remoteAddress);
  if (m !== null && parseIPv4(m[1]) >= 0) return m[1];
  m = MAPPED_HEX.exec(remoteAddress);
  if (m !== null) return formatIPv4(parseInt(m[1], 16) * 65536 + parseInt(m[2], 16));
  return '0.0.0.0';
}

// Every record writes two hosts, the store host always the same and the born host the same for
// a connection; remembering the last two parsed addresses (most recent first) skips most parsing.
let recentIp0 = '';
let recentValue0 = -1;
let recentIp1 = '';
let recentValue1 = -1;

function ipv4Value(ip: string): number {
  if (ip === recentIp0) return recentValue0;
  if (ip === recentIp1) {
    recentIp1 = recentIp0;
    recentIp0 = ip;
    const value = recentValue1;
    recentValue1 = recentValue0;
    recentValue0 = value;
    return value;
  }
  const value = parseIPv4(ip);
  if (value >= 0) {
    recentIp1 = recentIp0;
    recentValue1 = recentValue0;
    recentIp0 = ip;
    recentValue0 = value;
  }
  return value;
}

/** The IPv4 address of `h` as an unsigned 32-bit number; throws RecordError if it is not one. */
export function hostIPv4(h: HostAddress): number {
  const ip = ipv4Value(h.ip);
  if (ip < 0) throw new RecordError(`not an IPv4 address: ${JSON.stringify(h.ip)}`);
  return ip;
}

/** Writes an 8-byte IPv4 host (address, int32 port) at `pos`; returns the position after it. */
export function writeHost(buf: Buffer, pos: number, h: HostAddress): number {
  writeHostIPv4(buf, pos, hostIPv4(h), h.port);
  return pos + 8;
}

/** Writes an 8-byte host from an already parsed address (see {@link hostIPv4}). */
export function writeHostIPv4(buf: Buffer, pos: number, ip: number, port: number): void {
  buf.writeUInt32BE(ip, pos);
  buf.writeInt32BE(port | 0, pos + 4);
}

/** Reads an 8-byte IPv4 host at `pos`. */
export function readHost(buf: Buffer, pos: number): HostAddress {
  return { ip: formatIPv4(buf.readUInt32BE(pos)), port: buf.readInt32BE(pos + 4) };
}

/** Reads a 20-byte IPv6 host (16 address bytes, int32 port) at `pos`; the text is uncompressed. */
export function readHostV6(buf: Buffer, pos: number): HostAddress {
  return { ip: formatIPv6(buf, pos), port: buf.readInt32BE(pos + 16) };
}

/** Eight colon-separated lower-case hex groups of the 16 address bytes at `pos`. */
export function formatIPv6(buf: Buffer, pos: number): string {
  let s = buf.readUInt16BE(pos).toString(16);
  for (let i = 2; i < 16; i += 2) s += ':' + buf.readUInt16BE(pos + i).toString(16);
  return s;
}
