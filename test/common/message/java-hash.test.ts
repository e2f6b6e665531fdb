import { javaStringHash, tagsCode } from '../../../common/message/java-hash';

/** Independent reference: the polynomial sum in BigInt, reduced to a signed int32 at the end. */
function bigIntHash(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = h * 31n + BigInt(s.charCodeAt(i));
  return Number(BigInt.asIntN(32, h));
}

describe('javaStringHash', () => {
  it.each([
    ['', 0],
    ['a', 97],
    ['ab', 3105],
    ['TagA', 2598919],
    ['TagB', 2598920],
    ['null', 3392903],
    ['hello', 99162322],
    ['Hello World', -862545276],
    // The classic Java puzzler: this string hashes to Integer.MIN_VALUE.
    ['polygenelubricants', -2147483648],
    // Non-ASCII: one BMP code unit, and a surrogate pair hashed as its two UTF-16 units.
    ['中', 0x4e2d],
    ['é', 233],
    ['😀', 0xd83d * 31 + 0xde00],
  ])('hash of %j is %d', (s, expected) => {
    expect(javaStringHash(s)).toBe(expected);
  });

  it('wraps like Java on long strings', () => {
    const samples = [
      'x'.repeat(1000),
      'TopicTest-订单-😀-'.repeat(50),
      Array.from({ length: 500 }, (_, i) => String.fromCharCode((i * 7919) % 0xffff)).join(''),
    ];
    for (const s of samples) {
      const h = javaStringHash(s);
      expect(h).toBe(bigIntHash(s));
      expect(Number.isInteger(h) && h >= -2147483648 && h <= 2147483647).toBe(true);
    }
  });
});

describe('tagsCode', () => {
  it('is 0 without tags', () => {
    expect(tagsCode(undefined)).toBe(0);
    expect(tagsCode('')).toBe(0);
  });
  it('is the Java hash of the whole tags value', () => {
    expect(tagsCode('TagA')).toBe(2598919);
    expect(tagsCode('TagA||TagB')).toBe(javaStringHash('TagA||TagB'));
    // ali-ons sends the literal "null" for messages without tags.
    expect(tagsCode('null')).toBe(3392903);
  });
});
