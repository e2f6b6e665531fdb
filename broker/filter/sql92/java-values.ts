/**
 * The values an SQL92 filter computes with, and how they compare, as RocketMQ's Java evaluator
 * does it (`ComparisonExpression.__compare` with string conversion on, broker-internals.md §12.2).
 * The Java types matter: a property (always a string) compared with the literal `5` (an
 * `Integer`) is read with `Integer.valueOf`, so "3000000000" or "1.5" is an error there, while
 * against `5.0` (a `Double`) both are fine. Every conversion failure is an evaluation error,
 * which makes the whole message not match.
 */

/** A numeric literal with the Java type RocketMQ gives it (`ConstantExpression`). */
export type JavaNumber =
  | { readonly type: 'int'; readonly value: number }
  /** Kept as a number while it is exact (|v| < 2^53), as a bigint beyond. */
  | { readonly type: 'long'; readonly value: number | bigint }
  | { readonly type: 'double'; readonly value: number };

export type NumberType = JavaNumber['type'];

/** What an expression evaluates to: a string (property or literal), a boolean, a number or NULL. */
export type Value = string | boolean | JavaNumber | null;
export type NonNullValue = Exclude<Value, null>;

/** An evaluation error (a failed conversion): the message does not match. */
export const FAILED: unique symbol = Symbol('sql92 evaluation failed');
export type Failed = typeof FAILED;

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** Up to 15 digits a decimal string is an exact double, so no bigint is needed. */
const EXACT_DIGITS = 15;

const INTEGER_TEXT = /^[+-]?[0-9]+$/;
/** `Double.valueOf`'s decimal forms (after trimming): sign, NaN, Infinity, 1.5e3, .5, 5., suffix f/d. */
const DOUBLE_TEXT =
  /^[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)$/;

/**
 * A decimal integer literal (`createFromDecimal`): an `int` when it fits, else a `long`;
 * undefined when it does not fit a long either. `digits` has no sign and no `L` suffix.
 */
export function integerLiteral(digits: string): JavaNumber | undefined {
  const big = BigInt(digits);
  if (big > LONG_MAX) return undefined;
  return big <= BigInt(INT_MAX)
    ? { type: 'int', value: Number(big) }
    : { type: 'long', value: exactLong(big) };
}

/** A floating-point literal (`createFloat`, always a `Double`); undefined when it overflows. */
export function doubleLiteral(text: string): JavaNumber | undefined {
  const value = Number(text);
  return Number.isFinite(value) ? { type: 'double', value } : undefined;
}

/** Unary minus on a number, keeping its Java type (never overflows for literal operands). */
export function negate(n: JavaNumber): JavaNumber {
  switch (n.type) {
    case 'int':
      return { type: 'int', value: 0 - n.value };
    case 'long':
      return { type: 'long', value: exactLong(-BigInt(n.value)) };
    case 'double':
      return { type: 'double', value: -n.value };
  }
}

/** `Integer.valueOf(s)`. */
function parseInt32(s: string): number | Failed {
  if (!INTEGER_TEXT.test(s)) return FAILED;
  const n = Number(s);
  return n >= INT_MIN && n <= INT_MAX ? n + 0 : FAILED;
}

/** `Long.valueOf(s)`. */
function parseInt64(s: string): number | bigint | Failed {
  if (!INTEGER_TEXT.test(s)) return FAILED;
  const digits = s.charCodeAt(0) <= 0x2d ? s.length - 1 : s.length; // '+' and '-' are ≤ 0x2d
  if (digits <= EXACT_DIGITS) return Number(s) + 0;
  const big = BigInt(s);
  return big >= LONG_MIN && big <= LONG_MAX ? exactLong(big) : FAILED;
}

/** `Double.valueOf(s)`: Java trims characters ≤ U+0020 first. Hex floats are not accepted. */
export function parseDouble(s: string): number | Failed {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  const text = start === 0 && end === s.length ? s : s.slice(start, end);
  if (!DOUBLE_TEXT.test(text)) return FAILED;
  const last = text.charCodeAt(text.length - 1) | 0x20; // lower-cased
  // 'f'/'d' suffix; 'NaN'/'Infinity' end in other letters, digits and '.' are below 'a'.
  return Number(last === 0x66 || last === 0x64 ? text.slice(0, -1) : text);
}

/** `Boolean.valueOf(s)`: "true" in any case is true, everything else false. */
function parseBoolean(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === 'true';
}

function parseAs(type: NumberType, s: string): number | bigint | Failed {
  switch (type) {
    case 'int':
      return parseInt32(s);
    case 'long':
      return parseInt64(s);
    case 'double':
      return parseDouble(s);
  }
}

function exactLong(big: bigint): number | bigint {
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big;
}

/** `Double.compare`: −0.0 < 0.0, NaN above everything and equal to itself. */
export function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const aNaN = a !== a;
  const bNaN = b !== b;
  if (aNaN || bNaN) return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
  if (a === 0) {
    const aNeg = Object.is(a, -0);
    return aNeg === Object.is(b, -0) ? 0 : aNeg ? -1 : 1;
  }
  return 0;
}

/** Exact comparison of int/long values (JavaScript compares numbers with bigints exactly). */
function compareIntegers(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSameType(type: NumberType, a: number | bigint, b: number | bigint): number {
  return type === 'double' ? compareDoubles(Number(a), Number(b)) : compareIntegers(a, b);
}

function compareNumbers(l: JavaNumber, r: JavaNumber): number {
  // int and long widen to long; anything with a double widens to double.
  return l.type === 'double' || r.type === 'double'
    ? compareDoubles(Number(l.value), Number(r.value))
    : compareIntegers(l.value, r.value);
}

function compareBooleans(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? 1 : -1;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Java's `__compare(lv, rv)`: the sign orders `lv` against `rv`. A string meeting a number or a
 * boolean is converted to that type; a boolean meeting a number compares as −1 (so `=` is false);
 * a boolean on the left of a string is an error in Java (it casts the boolean to a string).
 */
export function compareValues(lv: NonNullValue, rv: NonNullValue): number | Failed {
  if (typeof lv === 'string') {
    if (typeof rv === 'string') return compareStrings(lv, rv);
    if (typeof rv === 'boolean') return compareBooleans(parseBoolean(lv), rv);
    const converted = parseAs(rv.type, lv);
    return converted === FAILED ? FAILED : compareSameType(rv.type, converted, rv.value);
  }
  if (typeof lv === 'boolean') {
    if (typeof rv === 'boolean') return compareBooleans(lv, rv);
    return typeof rv === 'string' ? FAILED : -1;
  }
  if (typeof rv === 'boolean') return -1;
  if (typeof rv === 'string') {
    const converted = parseAs(lv.type, rv);
    return converted === FAILED ? FAILED : compareSameType(lv.type, lv.value, converted);
  }
  return compareNumbers(lv, rv);
}

/**
 * The comparison behind `<`, `<=`, `>`, `>=`: like {@link compareValues}, except that two strings
 * are both read as doubles (ordering strings is illegal; Java tries numbers first).
 */
export function compareForOrdering(lv: NonNullValue, rv: NonNullValue): number | Failed {
  if (typeof lv === 'string' && typeof rv === 'string') {
    const a = parseDouble(lv);
    if (a === FAILED) return FAILED;
    const b = parseDouble(rv);
    return b === FAILED ? FAILED : compareDoubles(a, b);
  }
  return compareValues(lv, rv);
}

/** How a value is written in an expression, for error messages. */
export function describeValue(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return `'${v.replaceAll("'", "''")}'`;
  return String(v.value);
}
