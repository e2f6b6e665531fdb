import * as zlib from 'node:zlib';
import { crc32, crc32Table, crc32Unmasked } from '../../../common/message/crc32';
import { prng, randomBuffer, referenceCrc32 } from './fixtures';

describe('crc32', () => {
  it('matches the standard check value of "123456789", masked', () => {
    const b = Buffer.from('123456789');
    expect(crc32Unmasked(b)).toBe(0xcbf43926);
    expect(crc32(b)).toBe(0x4bf43926);
  });

  it('matches other known values', () => {
    expect(crc32(Buffer.alloc(0))).toBe(0);
    expect(crc32Unmasked(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(
      0x414fa339,
    );
    expect(crc32Unmasked(Buffer.from('a'))).toBe(0xe8b7be43);
  });

  it('always clears the top bit', () => {
    // 0xCBF43926 has the top bit set: masking must not be forgotten.
    expect(crc32(Buffer.from('123456789'))).toBeLessThan(2 ** 31);
  });

  it('agrees with a bitwise reference on every length around the 8-byte and native boundaries', () => {
    const rand = prng(1);
    const lengths = [...Array.from({ length: 40 }, (_, i) => i), 255, 511, 512, 513, 1000, 4099];
    for (const length of lengths) {
      const b = randomBuffer(rand, length);
      const expected = referenceCrc32(b);
      expect(crc32Table(b)).toBe(expected);
      expect(crc32Unmasked(b)).toBe(expected);
      expect(crc32(b)).toBe(expected & 0x7fffffff);
    }
  });

  it('computes a sub-range without copying', () => {
    const rand = prng(2);
    const b = randomBuffer(rand, 3000);
    for (const [start, end] of [
      [0, 0],
      [3, 11],
      [7, 700],
      [100, 3000],
      [1, 2999],
    ]) {
      const expected = referenceCrc32(b.subarray(start, end)) & 0x7fffffff;
      expect(crc32(b, start, end)).toBe(expected);
      expect(crc32Table(b, start, end) & 0x7fffffff).toBe(expected);
    }
  });

  it('agrees with zlib.crc32 where Node has it', () => {
    const native = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
    if (native === undefined) return;
    const rand = prng(3);
    for (let i = 0; i < 50; i++) {
      const b = randomBuffer(rand, Math.floor(rand() * 2000));
      expect(crc32Table(b)).toBe(native(b));
    }
  });
});
