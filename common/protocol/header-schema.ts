/**
 * Typed request/response headers. A header is declared once as a schema of fields (name,
 * type, required, and for the V2 send header a short wire name); `decode` validates a
 * command's `extFields` into a typed object and `encode` turns one back into string fields.
 * Values follow Java's rules (§2.5): ints and longs as decimal strings, booleans as
 * `true`/`false` (anything else reads as false).
 */
export type FieldType = 'string' | 'int' | 'long' | 'boolean';

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
  /** The one-letter name this field has in SendMessageRequestHeaderV2. */
  short?: string;
}

type TypeOf<F extends FieldSpec> = F['type'] extends 'string'
  ? string
  : F['type'] extends 'boolean'
    ? boolean
    : number;

type RequiredKeys<S> = { [K in keyof S]: S[K] extends { required: true } ? K : never }[keyof S];
type OptionalKeys<S> = Exclude<keyof S, RequiredKeys<S>>;

export type HeaderOf<S extends Record<string, FieldSpec>> = {
  [K in RequiredKeys<S>]: TypeOf<S[K]>;
} & { [K in OptionalKeys<S>]?: TypeOf<S[K]> };

/** A header that is missing a required field or has a value of the wrong type. */
export class HeaderError extends Error {}

export interface HeaderCodec<S extends Record<string, FieldSpec>> {
  readonly name: string;
  readonly fields: S;
  /** @param shortNames read the V2 one-letter names instead of the field names */
  decode(extFields: Record<string, string> | undefined, shortNames?: boolean): HeaderOf<S>;
  encode(header: HeaderOf<S>, shortNames?: boolean): Record<string, string>;
}

const INT_PATTERN = /^\s*[-+]?\d+\s*$/;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

function parseField(name: string, spec: FieldSpec, raw: string): string | number | boolean {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'boolean':
      // Boolean.parseBoolean: "true" in any case, nothing else (no trimming).
      return raw.toLowerCase() === 'true';
    case 'int': {
      const n = plainDecimal(raw) ?? (INT_PATTERN.test(raw) ? Number(raw) : NaN);
      if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
        throw new HeaderError(`header field ${name} is not an int: "${raw}"`);
      }
      return n;
    }
    case 'long': {
      // int64 values beyond 2^53 (Long.MAX_VALUE end timestamps, nanosecond subVersions) are
      // kept as the nearest double: they are only compared, never used as offsets. Values
      // outside int64 are rejected, as Long.parseLong rejects them.
      const plain = plainDecimal(raw);
      if (plain !== undefined) return plain;
      if (!INT_PATTERN.test(raw))
        throw new HeaderError(`header field ${name} is not a long: "${raw}"`);
      // Up to 15 digits the double is exact and far inside int64: no BigInt needed
      // (`+ 0` turns "-0" into 0, as BigInt would).
      if (raw.length <= 15) return Number(raw) + 0;
      const big = BigInt(raw.trim());
      if (big < LONG_MIN || big > LONG_MAX) {
        throw new HeaderError(`header field ${name} is not a long: "${raw}"`);
      }
      return Number(big);
    }
  }
}

/**
 * The value of 1 to 15 digits with an optional leading minus, as every client writes ints and
 * longs, read without a regular expression (headers are decoded per request); undefined for
 * anything else, which takes the general path. Up to 15 digits the value is exact.
 */
function plainDecimal(raw: string): number | undefined {
  const negative = raw.charCodeAt(0) === 0x2d;
  const start = negative ? 1 : 0;
  const length = raw.length - start;
  if (length < 1 || length > 15) return undefined;
  let n = 0;
  for (let i = start; i < raw.length; i++) {
    const digit = raw.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    n = n * 10 + digit;
  }
  // `+ 0` turns -0 into 0, as Number("-0") + 0 and BigInt do.
  return negative ? -n + 0 : n;
}

/** The wire string of a typed value; numbers must be integers Java can parse back. */
function formatField(name: string, spec: FieldSpec, value: unknown): string {
  if (typeof value !== 'number' || (spec.type !== 'int' && spec.type !== 'long')) {
    return String(value);
  }
  if (!Number.isInteger(value)) {
    throw new RangeError(`header field ${name} is not an integer: ${value}`);
  }
  if (spec.type === 'int') {
    if (value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`header field ${name} is outside int32: ${value}`);
    }
    return String(value);
  }
  // Safe integers print exactly, never in exponent notation.
  if (Number.isSafeInteger(value)) return String(value);
  // A long decoded from "9223372036854775807" is the double 2^63: write it back as
  // Long.MAX_VALUE, and never as exponent notation.
  if (value >= 2 ** 63) return LONG_MAX.toString();
  if (value <= -(2 ** 63)) return LONG_MIN.toString();
  return BigInt(value).toString();
}

export function defineHeader<S extends Record<string, FieldSpec>>(
  name: string,
  fields: S,
): HeaderCodec<S> {
  // Resolved once: decode and encode run for every request and reply.
  const entries = Object.entries(fields).map(([field, spec]) => ({
    field,
    spec,
    shortWire: spec.short ?? field,
    // An empty number is absent; an empty boolean is false, as Boolean.parseBoolean says.
    emptyIsAbsent: spec.type === 'int' || spec.type === 'long',
  }));
  return {
    name,
    fields,
    decode(extFields, shortNames = false) {
      const out: Record<string, string | number | boolean> = {};
      for (const { field, spec, shortWire, emptyIsAbsent } of entries) {
        const wire = shortNames ? shortWire : field;
        const raw = extFields?.[wire];
        if (raw === undefined || (emptyIsAbsent && raw === '')) {
          if (spec.required) throw new HeaderError(`${name}: missing header field ${wire}`);
          continue;
        }
        out[field] = spec.type === 'string' ? raw : parseField(wire, spec, raw);
      }
      return out as HeaderOf<S>;
    },
    encode(header, shortNames = false) {
      const out: Record<string, string> = {};
      const values = header as Record<string, string | number | boolean | undefined>;
      for (const { field, spec, shortWire } of entries) {
        const value = values[field];
        if (value === undefined || value === null) continue;
        out[shortNames ? shortWire : field] =
          typeof value === 'string' ? value : formatField(field, spec, value);
      }
      return out;
    },
  };
}

/** Field specs to declare headers with: `topic: required.string, bname: optional.string`. */
export const required = {
  string: { type: 'string', required: true },
  int: { type: 'int', required: true },
  long: { type: 'long', required: true },
  boolean: { type: 'boolean', required: true },
} as const;

export const optional = {
  string: { type: 'string' },
  int: { type: 'int' },
  long: { type: 'long' },
  boolean: { type: 'boolean' },
} as const;
