/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as `java.util.zip.CRC32`) masked with
 * `0x7FFFFFFF`, the way RocketMQ stores BODYCRC (`UtilAll.crc32`, broker-internals.md §0.2).
 *
 * Slicing-by-8: eight 256-entry tables let the inner loop fold eight bytes per step. Early Node 20
 * releases have no `zlib.crc32` (it arrived in 22.2; later 20.x releases have it too); where it exists
 * it is used for long ranges, where native code is about 3x faster (short ones are faster here,
 * the native call costs more than the work).
 */
import * as zlib from 'node:zlib';

const TABLES = buildTables();
const NATIVE_MIN_LENGTH = 512;
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  // t[k*256 + n] = CRC of byte n followed by k zero bytes.
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
}

/** Unmasked CRC-32 of `buf[start, end)` as an unsigned 32-bit number (what zlib returns). */
export function crc32Unmasked(buf: Uint8Array, start = 0, end = buf.length): number {
  if (end > buf.length) end = buf.length;
  if (start < 0) start = 0;
  if (nativeCrc32 !== undefined && end - start >= NATIVE_MIN_LENGTH) {
    return nativeCrc32(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }
  return crc32Table(buf, start, end);
}

/** The pure-JS table implementation of {@link crc32Unmasked} (exported for tests). */
export function crc32Table(buf: Uint8Array, start = 0, end = buf.length): number {
  const t = TABLES;
  if (end > buf.length) end = buf.length;
  let i = start < 0 ? 0 : start;
  let c = -1;
  const end8 = end - 8;
  while (i <= end8) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c =
      t[1792 + (c & 0xff)] ^
      t[1536 + ((c >>> 8) & 0xff)] ^
      t[1280 + ((c >>> 16) & 0xff)] ^
      t[1024 + (c >>> 24)] ^
      t[768 + buf[i + 4]] ^
      t[512 + buf[i + 5]] ^
      t[256 + buf[i + 6]] ^
      t[buf[i + 7]];
    i += 8;
  }
  while (i < end) c = t[(c ^ buf[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** RocketMQ's body CRC: CRC-32 of `buf[start, end)` with the top bit cleared (0 … 2^31−1). */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  return crc32Unmasked(buf, start, end) & 0x7fffffff;
}
