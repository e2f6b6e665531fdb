/**
 * The SQL92 evaluator over a table of expressions and messages (broker-internals.md §12.2): each
 * row is an expression, a message's properties and the outcome RocketMQ's Java evaluator gives —
 * TRUE, FALSE, null (unknown: only TRUE matches) or 'error' (a failed conversion: no match).
 */
import { compileSql92, type Sql92Result } from '../../../broker/filter/sql92';

type Props = Record<string, string>;
type Row = [expression: string, properties: Props, expected: Sql92Result];

function lookupIn(props: Props): (name: string) => string | undefined {
  return (name) => (Object.prototype.hasOwnProperty.call(props, name) ? props[name] : undefined);
}

const equality: Row[] = [
  ['a = 5', { a: '5' }, true],
  ['a = 5', { a: '6' }, false],
  ['a = 5', {}, null],
  ["a = '5'", { a: '5' }, true],
  ["a = '5'", { a: '5.0' }, false],
  ['a = 5.0', { a: '5' }, true],
  // The literal 5 is a Java Integer: the property is read with Integer.valueOf.
  ['a = 5', { a: '5.0' }, 'error'],
  ['a = 5', { a: 'abc' }, 'error'],
  ['a = 5', { a: '+5' }, true],
  ['a = 5', { a: '05' }, true],
  ['a = 5', { a: ' 5' }, 'error'],
  // Double.valueOf trims and accepts a type suffix and an exponent.
  ['a = 5.0', { a: ' 5 ' }, true],
  ['a = 1.5', { a: '1.5f' }, true],
  ['a = 1.5', { a: '15e-1' }, true],
  ['a = 5L', { a: '5' }, true],
  ['a = -5', { a: '-5' }, true],
  ['a = - -5', { a: '5' }, true],
  ['a = +5', { a: '5' }, true],
  ['a <> 5', { a: '6' }, true],
  ['a <> 5', { a: '5' }, false],
  ['a <> 5', {}, null],
  ["a <> 'x'", { a: 'x' }, false],
  ["a = 'it''s'", { a: "it's" }, true],
  ["a = 'héllo wörld'", { a: 'héllo wörld' }, true],
  ["a = 'TRUE'", { a: 'TRUE' }, true],
  // NULL on the right only is FALSE in Java (on the left it is NULL), and NULL = NULL is TRUE.
  ["'x' = a", {}, false],
  ["'x' <> a", {}, true],
  ['a = b', {}, true],
  ['a = b', { a: 'x' }, false],
  ['a = b', { b: 'x' }, null],
  ['a = b', { a: 'x', b: 'x' }, true],
  ['a = b', { a: '1', b: '1.0' }, false],
  ["TAGS = 'TagA'", { TAGS: 'TagA' }, true],
  ["tags = 'TagA'", { TAGS: 'TagA' }, null],
  ["$x = '1' AND _y = '2' AND z9 = '3'", { $x: '1', _y: '2', z9: '3' }, true],
];

const bigNumbers: Row[] = [
  ['a = 3000000000', { a: '3000000000' }, true],
  // Against an Integer literal a value beyond 32 bits does not convert…
  ['a > 5', { a: '3000000000' }, 'error'],
  // …against a Double or a Long literal it does.
  ['a > 5.0', { a: '3000000000' }, true],
  ['a > 2999999999', { a: '3000000000' }, true],
  ['a > 1700000000000', { a: '1700000000001' }, true],
  ['a = 9223372036854775807', { a: '9223372036854775807' }, true],
  // Longs compare exactly, beyond what a double can tell apart.
  ['a < 9223372036854775807', { a: '9223372036854775806' }, true],
  ['a = 9007199254740993', { a: '9007199254740992' }, false],
  ['a = 9223372036854775807', { a: '9223372036854775808' }, 'error'],
  ['a = -2147483648', { a: '-2147483648' }, true],
  ['a > 9007199254740993.0', { a: '9007199254740993' }, false],
];

const booleans: Row[] = [
  ['a = TRUE', { a: 'true' }, true],
  ['a = TRUE', { a: 'TRUE' }, true],
  ['a = TRUE', { a: 'yes' }, false],
  ['a = FALSE', { a: 'yes' }, true],
  ['a <> FALSE', { a: 'True' }, true],
  // Java casts the Boolean on the left to a String here: an error.
  ['TRUE = a', { a: 'true' }, 'error'],
  ['a = 1 = TRUE', { a: '1' }, true],
  ['(a = 1) = FALSE', { a: '2' }, true],
  ['(a = 1) = 1', { a: '1' }, false],
  ['1 = TRUE', {}, false],
  ['TRUE', {}, true],
  ['FALSE', {}, false],
  ['NULL', {}, null],
  ['NOT NULL', {}, null],
  ['NOT FALSE', {}, true],
  ['TRUE AND NULL', {}, null],
  // A bare property as a condition: a string is never a Boolean, so FALSE (NULL if absent).
  ['a', { a: 'true' }, false],
  ['a', {}, null],
  ['NOT a', { a: 'x' }, true],
  ['NOT a', {}, null],
  // NOT binds tighter than '=': (NOT a) = 1 compares a Boolean with an Integer.
  ['NOT a = 1', { a: '1' }, false],
  ['NOT a = 1', {}, null],
];

const ordering: Row[] = [
  ['a > 5', { a: '10' }, true],
  ['a > 5', { a: '5' }, false],
  ['a >= 5', { a: '5' }, true],
  ['a < 5', { a: '-3' }, true],
  ['a <= 5', { a: '6' }, false],
  ['a > 5', {}, null],
  ['5 < a', { a: '10' }, true],
  ['a > 5', { a: '5.5' }, 'error'],
  ['a > 1.5', { a: '2' }, true],
  ['a > 1E3', { a: '1001' }, true],
  ['a > 1e3', { a: '999' }, false],
  ['a > .5', { a: '0.6' }, true],
  ['a > 5.', { a: '6' }, true],
  ['a < 2.5E-3', { a: '0.001' }, true],
  // Two strings are ordered as numbers: '10' > '9' numerically, not alphabetically.
  ['a > b', { a: '10', b: '9' }, true],
  ['a > b', { a: '1e3', b: '999' }, true],
  ['a > b', { a: 'x', b: '9' }, 'error'],
  ['a > b', { a: '10' }, null],
  ['a > b', { b: 'x' }, null],
  // Double.compare: NaN is above everything, −0.0 below 0.0.
  ['a > 1.0', { a: 'NaN' }, true],
  ['a > b', { a: '0.0', b: '-0.0' }, true],
  ['a > 1.0', { a: '-Infinity' }, false],
  // Unary minus on a property is NULL (only numbers negate).
  ['-a > 5', { a: '-10' }, null],
  ['a > -b', { a: '1', b: '2' }, null],
];

const logic: Row[] = [
  ['a = 1 AND b = 2', { a: '1', b: '2' }, true],
  ['a = 1 AND b = 2', { a: '1' }, null],
  ['a = 1 AND b = 2', { a: '2' }, false],
  ['a = 1 OR b = 2', { b: '2' }, true],
  ['a = 1 OR b = 2', { a: '2' }, null],
  ['a = 1 OR b = 2', { a: '2', b: '3' }, false],
  ['NOT (a = 1)', { a: '2' }, true],
  ['NOT (a = 1)', {}, null],
  ['NOT NOT (a = 1)', { a: '1' }, true],
  // AND binds tighter than OR.
  ["a = 1 OR a = 'x' AND b = 2", { a: '1' }, true],
  ["a = 1 OR a = 'x' AND b = 2", { a: 'x' }, 'error'],
  ["a = '1' OR a = 'x' AND b = 2", { a: 'x', b: '2' }, true],
  ["a = '1' OR a = 'x' AND b = 2", { a: 'x' }, null],
  ['(a = 1 OR b = 2) AND c = 3', { a: '1' }, null],
  ['(a = 1 OR b = 2) AND c = 3', { b: '2', c: '3' }, true],
  // An error ends the evaluation, even where the other side would decide…
  ["a = 5 OR b = 'x'", { a: 'abc', b: 'x' }, 'error'],
  ["a = 5 AND b = 'x'", { a: 'abc', b: 'y' }, 'error'],
  // …unless the evaluation already stopped before it.
  ["b = 'x' OR a = 5", { a: 'abc', b: 'x' }, true],
  ["b = 'x' AND a = 5", { a: 'abc', b: 'y' }, false],
  ['a = 1 and b = 2 Or c = 3', { c: '3' }, true],
  ['a = 1 AND b = 2 AND c = 3 AND d = 4', { a: '1', b: '2', c: '3', d: '4' }, true],
  ['a = 1 OR b = 2 OR c = 3 OR d = 4', { d: '4' }, true],
  // Negating a condition is NULL, but its errors still count.
  ['-(a = 1) = 1', { a: '1' }, null],
  ['-(a = 1) = 1', { a: 'x' }, 'error'],
];

const between: Row[] = [
  ['a BETWEEN 1 AND 10', { a: '5' }, true],
  ['a BETWEEN 1 AND 10', { a: '1' }, true],
  ['a BETWEEN 1 AND 10', { a: '10' }, true],
  ['a BETWEEN 1 AND 10', { a: '11' }, false],
  ['a BETWEEN 1 AND 10', {}, null],
  ['a BETWEEN 1 AND 10', { a: 'abc' }, 'error'],
  ['a NOT BETWEEN 1 AND 10', { a: '11' }, true],
  ['a NOT BETWEEN 1 AND 10', { a: '5' }, false],
  ['a NOT BETWEEN 1 AND 10', {}, null],
  ['a BETWEEN 1.5 AND 2.5', { a: '2' }, true],
  ['a BETWEEN -5 AND 5', { a: '-5' }, true],
  ['a BETWEEN 1 AND 10 AND b = 2', { a: '5', b: '2' }, true],
  ['a between 1 and 10', { a: '2' }, true],
  // A signed bound is not checked at parse time (as in Java): an empty range.
  ['a BETWEEN 5 AND -1', { a: '0' }, false],
  ['a BETWEEN b AND c', { a: '5', b: '1', c: '9' }, true],
];

const inList: Row[] = [
  ["a IN ('x', 'y')", { a: 'y' }, true],
  ["a IN ('x', 'y')", { a: 'z' }, false],
  ["a IN ('x', 'y')", {}, null],
  ["a NOT IN ('x', 'y')", { a: 'z' }, true],
  ["a NOT IN ('x', 'y')", { a: 'x' }, false],
  ["a NOT IN ('x', 'y')", {}, null],
  ["a IN ('1')", { a: '1' }, true],
  ["a IN ('1')", { a: '01' }, false],
  ["a IN ('a','b','c','d','e','f')", { a: 'f' }, true],
  ["TAGS IN ('TagA', 'TagB')", { TAGS: 'TagB' }, true],
  ["(a) IN ('x')", { a: 'x' }, true],
];

const nulls: Row[] = [
  ['a IS NULL', {}, true],
  ['a IS NULL', { a: 'x' }, false],
  ['a IS NOT NULL', { a: 'x' }, true],
  ['a IS NOT NULL', {}, false],
  ['a is not null', {}, false],
  ['(a = 1) IS NULL', {}, true],
  ['(a = 5) IS NULL', { a: 'x' }, 'error'],
  ["a IS NULL OR a = 'x'", {}, true],
  ['5 IS NULL', {}, false],
];

const strings: Row[] = [
  ["a CONTAINS 'bc'", { a: 'abcd' }, true],
  ["a CONTAINS 'bc'", { a: 'xyz' }, false],
  // The string matches are FALSE on NULL, NOT forms included.
  ["a CONTAINS 'bc'", {}, false],
  ["a NOT CONTAINS 'bc'", { a: 'xyz' }, true],
  ["a NOT CONTAINS 'bc'", { a: 'abc' }, false],
  ["a NOT CONTAINS 'bc'", {}, false],
  ["NOT (a CONTAINS 'bc')", {}, true],
  ["a STARTSWITH 'ab'", { a: 'abc' }, true],
  ["a STARTSWITH 'bc'", { a: 'abc' }, false],
  ["a NOT STARTSWITH 'ab'", { a: 'abc' }, false],
  ["a ENDSWITH 'bc'", { a: 'abc' }, true],
  ["a NOT ENDSWITH 'x'", { a: 'abc' }, true],
  ["a ENDSWITH 'x'", {}, false],
  // An empty search string never matches.
  ["a CONTAINS ''", { a: 'abc' }, false],
  ["a NOT CONTAINS ''", { a: 'abc' }, false],
  // Only strings match; a number literal is not one.
  ["5 CONTAINS '5'", {}, false],
  ["a contains 'B'", { a: 'abc' }, false],
];

const layout: Row[] = [
  ['a = 1 /* note */ AND b = 2', { a: '1', b: '2' }, true],
  ['/* leading */ a = 1', { a: '1' }, true],
  ['a = 1 -- note\nAND b = 2', { a: '1', b: '2' }, true],
  ['a = 1 -- trailing\n', { a: '1' }, true],
  ['a\t=\r\n1\f', { a: '1' }, true],
  ['a=1AND b=2', { a: '1', b: '2' }, true],
  ["a='x'OR b='y'", { b: 'y' }, true],
  ['(((a = 1)))', { a: '1' }, true],
];

const tables: [string, Row[]][] = [
  ['equality', equality],
  ['big numbers', bigNumbers],
  ['booleans', booleans],
  ['ordering', ordering],
  ['logic', logic],
  ['BETWEEN', between],
  ['IN', inList],
  ['IS NULL', nulls],
  ['string matches', strings],
  ['layout and comments', layout],
];

describe.each(tables)('SQL92 evaluation: %s', (_name, rows) => {
  it.each(rows)('%j on %j is %j', (expression, props, expected) => {
    const predicate = compileSql92(expression);
    expect(predicate.evaluate(lookupIn(props))).toBe(expected);
    expect(predicate.matches(lookupIn(props))).toBe(expected === true);
  });
});

describe('SQL92 evaluation: property reads', () => {
  it('reads each property at most once per message, and only those it needs', () => {
    const predicate = compileSql92("a BETWEEN 1 AND 10 AND (a = 3 OR b IN ('x')) OR c = 'z'");
    const reads: string[] = [];
    const props: Props = { a: '3', b: 'x', c: 'z' };
    const lookup = (name: string): string | undefined => {
      reads.push(name);
      return props[name];
    };
    expect(predicate.evaluate(lookup)).toBe(true);
    // `a = 3` is TRUE, so the OR stops before b, and the outer OR before c.
    expect(reads).toEqual(['a']);
    reads.length = 0;
    props.a = '4';
    expect(predicate.evaluate(lookup)).toBe(true);
    expect(reads).toEqual(['a', 'b']);
  });

  it('gives every evaluation fresh properties', () => {
    const predicate = compileSql92('a > 5');
    expect(predicate.evaluate(lookupIn({ a: '6' }))).toBe(true);
    expect(predicate.evaluate(lookupIn({ a: '4' }))).toBe(false);
    expect(predicate.evaluate(lookupIn({}))).toBeNull();
  });
});

it('has at least 100 rows in the expression table', () => {
  expect(tables.reduce((n, [, rows]) => n + rows.length, 0)).toBeGreaterThanOrEqual(100);
});
