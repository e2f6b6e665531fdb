/**
 * Big-endian int64 fields as JS numbers, written and read as two 32-bit halves: faster than
 * `writeBigInt64BE(BigInt(n))` and exact for every integer of magnitude < 2^53 (offsets and
 * millisecond timestamps stay far below that).
 */
const TWO_32 = 4294967296;

/** Writes integer `n` as a big-endian int64 at `pos` (no range check; |n| must be < 2^53). */
export function writeInt64BE(buf: Buffer, pos: number, n: number): void {
  const hi = Math.floor(n / TWO_32);
  const lo = n - hi * TWO_32;
  // Typed-array stores keep the low 8 bits, so no masking is needed.
  buf[pos] = hi >>> 24;
  buf[pos + 1] = hi >>> 16;
  buf[pos + 2] = hi >>> 8;
  buf[pos + 3] = hi;
  buf[pos + 4] = lo >>> 24;
  buf[pos + 5] = lo >>> 16;
  buf[pos + 6] = lo >>> 8;
  buf[pos + 7] = lo;
}

/** Reads a big-endian int64 at `pos` as a number (exact when |value| < 2^53). */
export function readInt64BE(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}
