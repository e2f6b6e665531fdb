/**
 * SQL92 property filters (broker-internals.md §12.2): `compileSql92(expression)` parses and
 * compiles an expression once and caches the outcome by its text, as RocketMQ's
 * `SelectorParser.parse` does, so every pull and heartbeat of a subscription reuses it.
 */
import { Sql92ParseError } from './errors';
import { compilePredicate, type Sql92Predicate } from './evaluator';
import { parseSql92, SQL92_LIMITS } from './parser';

export { Sql92ParseError } from './errors';
export type { PropertyLookup, Sql92Predicate, Sql92Result } from './evaluator';
export { SQL92_LIMITS } from './parser';

/** Most cached expressions, and most characters they may hold together (LRU beyond either). */
const CACHE_MAX_ENTRIES = 256;
const CACHE_MAX_CHARS = 4 * 1024 * 1024;

/** Refused expressions are cached too: a consumer retries the same bad one on every pull. */
const cache = new Map<string, Sql92Predicate | Sql92ParseError>();
let cachedChars = 0;

/**
 * The predicate of `expression`; throws Sql92ParseError (what is wrong, and where) if it is not a
 * valid SQL92 filter.
 */
export function compileSql92(expression: string): Sql92Predicate {
  let entry = cache.get(expression);
  if (entry === undefined) {
    entry = build(expression);
    // Over-long text is refused without keeping it around.
    if (expression.length <= SQL92_LIMITS.maxLength) remember(expression, entry);
  } else {
    // Re-insert to mark it most recently used.
    cache.delete(expression);
    cache.set(expression, entry);
  }
  if (entry instanceof Sql92ParseError) throw entry;
  return entry;
}

function build(expression: string): Sql92Predicate | Sql92ParseError {
  try {
    return compilePredicate(expression, parseSql92(expression));
  } catch (e) {
    if (e instanceof Sql92ParseError) return e;
    throw e;
  }
}

function remember(expression: string, entry: Sql92Predicate | Sql92ParseError): void {
  cache.set(expression, entry);
  cachedChars += expression.length;
  for (const oldest of cache.keys()) {
    if (cache.size <= CACHE_MAX_ENTRIES && cachedChars <= CACHE_MAX_CHARS) break;
    cache.delete(oldest);
    cachedChars -= oldest.length;
  }
}
