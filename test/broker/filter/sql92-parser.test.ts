/**
 * The SQL92 parser: the tree it builds for each grammar form and precedence level, the message it
 * gives for bad expressions (what is wrong and where), and its limits against hostile input.
 */
import { compileSql92, SQL92_LIMITS, Sql92ParseError } from '../../../broker/filter/sql92';
import type { Expr } from '../../../broker/filter/sql92/ast';
import { parseSql92 } from '../../../broker/filter/sql92/parser';
import { Prng } from '../../helpers/prng';

/** The tree with every operator parenthesized, e.g. `((a = 1) OR ((b = 2) AND (c = 3)))`. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      if (e.value === null) return 'NULL';
      if (typeof e.value === 'boolean') return e.value ? 'TRUE' : 'FALSE';
      if (typeof e.value === 'string') return `'${e.value}'`;
      return `${e.value.value}:${e.value.type}`;
    case 'property':
      return e.name;
    case 'negate':
      return `(-${show(e.operand)})`;
    case 'not':
      return `(NOT ${show(e.operand)})`;
    case 'booleanCast':
      return `bool(${e.operand.name})`;
    case 'and':
    case 'or':
      return `(${e.operands.map(show).join(` ${e.kind.toUpperCase()} `)})`;
    case 'comparison':
      return `(${show(e.left)} ${e.operator} ${show(e.right)})`;
    case 'between':
      return `(${show(e.value)} ${e.negated ? 'NOT ' : ''}BETWEEN ${show(e.low)} AND ${show(e.high)})`;
    case 'in':
      return `(${e.property.name} ${e.negated ? 'NOT ' : ''}IN ${e.values.map((v) => `'${v}'`).join(',')})`;
    case 'isNull':
      return `(${show(e.operand)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
    case 'stringMatch':
      return `(${show(e.operand)} ${e.negated ? 'NOT ' : ''}${e.operator} '${e.search}')`;
  }
}

describe('SQL92 parser: trees', () => {
  it.each([
    ['a = 1 OR b = 2 AND c = 3', '((a = 1:int) OR ((b = 2:int) AND (c = 3:int)))'],
    ['(a = 1 OR b = 2) AND c = 3', '(((a = 1:int) OR (b = 2:int)) AND (c = 3:int))'],
    ['a = 1 OR b = 2 OR c = 3', '((a = 1:int) OR (b = 2:int) OR (c = 3:int))'],
    ['NOT a = 1', '((NOT bool(a)) = 1:int)'],
    ['NOT (a = 1)', '(NOT (a = 1:int))'],
    ['a > 1 = TRUE', '((a > 1:int) = TRUE)'],
    ['a = b IS NULL', '((a = b) IS NULL)'],
    ['a IS NOT NULL', '(a IS NOT NULL)'],
    ['a <> -5', '(a <> -5:int)'],
    ['a < - - 5', '(a < 5:int)'],
    ['a <= +5', '(a <= 5:int)'],
    ['a >= -b', '(a >= (-b))'],
    ['a = 5L', '(a = 5:int)'],
    ['a = 2147483648', '(a = 2147483648:long)'],
    ['a = -2147483648', '(a = -2147483648:long)'],
    ['a = 1.5e3', '(a = 1500:double)'],
    ['a = 5.', '(a = 5:double)'],
    ['a = .25', '(a = 0.25:double)'],
    ['a = 5E-1', '(a = 0.5:double)'],
    ["a = 'it''s'", "(a = 'it's')"],
    ["a = ''", "(a = '')"],
    ['a BETWEEN 1 AND 2 AND b = 3', '((a BETWEEN 1:int AND 2:int) AND (b = 3:int))'],
    ['a NOT BETWEEN -1 AND 2.5', '(a NOT BETWEEN -1:int AND 2.5:double)'],
    ["a NOT IN ('x','y')", "(a NOT IN 'x','y')"],
    ["a CONTAINS 'x' AND b NOT STARTSWITH 'y'", "((a CONTAINS 'x') AND (b NOT STARTSWITH 'y'))"],
    ["a NOT ENDSWITH 'z'", "(a NOT ENDSWITH 'z')"],
    ['a', 'bool(a)'],
    ['a AND b', '(bool(a) AND bool(b))'],
    ['TRUE OR NULL', '(TRUE OR NULL)'],
    ['and_or = 1', '(and_or = 1:int)'],
    ['Not A Is Null', '((NOT bool(A)) IS NULL)'],
  ])('%s', (expression, tree) => {
    expect(show(parseSql92(expression))).toBe(tree);
  });
});

describe('SQL92 parser: bad expressions', () => {
  it.each([
    ['', 1, 'the expression is empty'],
    ['  /* only a comment */ ', 24, 'the expression is empty'],
    [
      'a =',
      4,
      "expected a value (a property, a literal or '(') but found the end of the expression",
    ],
    ['a = 1 AND', 10, 'expected a value'],
    ['a = 1 AND AND b = 2', 11, "expected a value (a property, a literal or '(') but found AND"],
    ['a == 1', 4, "expected a value (a property, a literal or '(') but found '='"],
    ['a != 1', 3, "unexpected character '!' (use '<>' for not equal)"],
    ['a @ 1', 3, "unexpected character '@'"],
    ['a.b = 1', 2, "unexpected character '.'"],
    ['a = \u00a01', 5, 'unexpected character U+00A0'],
    ["a = 'abc", 5, 'unterminated string literal'],
    ['a = 1 /* note', 7, 'unterminated /* comment'],
    [
      'a = 1 -- a comment needs a line break',
      7,
      "expected AND, OR or the end of the expression but found '-'",
    ],
    ['a = NULL', 5, 'NULL can not be compared with =; use IS NULL'],
    ['NULL <> a', 1, 'NULL can not be compared with <>'],
    ['TRUE = 1', 6, 'TRUE can not be compared with 1'],
    ["FALSE = 'x'", 7, "FALSE can not be compared with 'x'"],
    ["a > 'x'", 5, "'x' can not be compared with >: only numbers can"],
    ['a >= TRUE', 6, 'TRUE can not be compared with >=: only numbers can'],
    ['NULL < 1', 1, 'NULL can not be compared with <'],
    ['(a = 1) > 2', 2, 'a condition can not be compared with >'],
    ['a < NOT b', 5, 'a condition can not be compared with <'],
    [
      'a BETWEEN 10 AND 1',
      3,
      'the lower bound of BETWEEN (10) is greater than the upper bound (1)',
    ],
    [
      'a BETWEEN 2.5 AND 2',
      3,
      'the lower bound of BETWEEN (2.5) is greater than the upper bound (2)',
    ],
    ["a BETWEEN 'a' AND 'b'", 11, "'a' can not be compared with BETWEEN"],
    ['a BETWEEN NULL AND 1', 11, 'NULL can not be compared with BETWEEN'],
    ['a BETWEEN 1 OR 2', 13, 'expected AND between the bounds of BETWEEN but found OR'],
    ["5 IN ('a')", 1, 'the left side of IN must be a property'],
    ["(a = 1) NOT IN ('a')", 2, 'the left side of NOT IN must be a property'],
    ['a IN (1, 2)', 7, 'expected a string literal in the IN list but found number 1'],
    ['a IN ()', 7, "expected a string literal in the IN list but found ')'"],
    ["a IN ('x'", 10, "expected ',' or ')' in the IN list but found the end of the expression"],
    ["a IN ('x' 'y')", 11, "expected ',' or ')' in the IN list but found string 'y'"],
    ["a IN 'x'", 6, "expected '(' after IN but found string 'x'"],
    ['a CONTAINS 5', 12, 'expected a string literal after CONTAINS but found number 5'],
    ['a NOT STARTSWITH b', 18, 'expected a string literal after STARTSWITH but found property b'],
    ['a IS 5', 6, 'expected NULL or NOT NULL after IS but found number 5'],
    ['a IS NOT TRUE', 10, 'expected NULL after IS NOT but found TRUE'],
    ['5', 1, '5 is not a condition'],
    ["'abc'", 1, "'abc' is not a condition"],
    ['-a', 1, 'a negation is not a condition'],
    ['a = 1 OR 5', 10, '5 is not a condition'],
    ['NOT 5', 5, '5 is not a condition'],
    ['a = 1 b = 2', 7, 'expected AND, OR or the end of the expression but found property b'],
    ['a = 1)', 6, "expected AND, OR or the end of the expression but found ')'"],
    ["a LIKE 'x%'", 3, 'expected AND, OR or the end of the expression but found property LIKE'],
    ['a NOT = 1', 3, 'expected AND, OR or the end of the expression but found NOT'],
    ['(a = 1', 7, "expected ')' to close the '(' at column 1 but found the end of the expression"],
    ['a = 9223372036854775808', 5, 'integer 9223372036854775808 is out of range'],
    ['a = 1e999', 5, 'number 1e999 is too large for a double'],
    ['a = 007', 5, "invalid number '007': leading zeros are not allowed"],
  ])('%j → column %d: %s', (expression, column, reason) => {
    let error: unknown;
    try {
      parseSql92(expression);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Sql92ParseError);
    const e = error as Sql92ParseError;
    expect(e.reason).toContain(reason);
    expect({ line: e.line, column: e.column }).toEqual({ line: 1, column });
    expect(e.message).toBe(`Invalid SQL92 filter expression at column ${column}: ${e.reason}`);
  });

  it('gives line and column in a multi-line expression', () => {
    expect(() => parseSql92("a = 1\r\nAND b = 'x'\nAND c >")).toThrow(
      'Invalid SQL92 filter expression at line 3, column 8: expected a value',
    );
  });
});

describe('SQL92 parser: limits against hostile input', () => {
  const { maxDepth, maxLength } = SQL92_LIMITS;

  function reasonOf(expression: string): string {
    try {
      parseSql92(expression);
    } catch (e) {
      if (e instanceof Sql92ParseError) return e.reason;
      throw e;
    }
    return 'accepted';
  }

  it('accepts nesting up to the limit and refuses one level more', () => {
    const nested = (n: number) => '('.repeat(n) + 'a = 1' + ')'.repeat(n);
    expect(reasonOf(nested(maxDepth))).toBe('accepted');
    expect(reasonOf(nested(maxDepth + 1))).toContain(`nested more than ${maxDepth} levels`);
  });

  it.each([
    ['parentheses', '('.repeat(30000) + 'a = 1' + ')'.repeat(30000)],
    ['unclosed parentheses', '('.repeat(60000)],
    ['NOT chain', 'NOT '.repeat(16000) + 'a = 1'],
    ['minus chain', 'a = ' + '-'.repeat(60000) + '1'],
    ['comparison chain', 'a = 1' + ' = TRUE'.repeat(9000)],
    ['IS NULL chain', 'a' + ' IS NULL'.repeat(8000)],
    ['CONTAINS chain', 'a' + " CONTAINS 'x'".repeat(5000)],
  ])('refuses deep %s with an error, not a stack overflow', (_name, expression) => {
    expect(expression.length).toBeLessThanOrEqual(maxLength);
    expect(reasonOf(expression)).toContain(`nested more than ${maxDepth} levels`);
  });

  it('refuses an expression over the length limit before reading it', () => {
    const expression = 'a = 1' + ' OR a = 1'.repeat(maxLength / 9 + 1);
    expect(reasonOf(expression)).toBe(
      `the expression is ${expression.length} characters long, the limit is ${maxLength}`,
    );
  });

  it('accepts long flat expressions up to the length limit and evaluates them', () => {
    const terms = 4000;
    const or = Array.from({ length: terms }, (_, i) => `a = '${i}'`).join(' OR ');
    expect(or.length).toBeLessThanOrEqual(maxLength);
    const predicate = compileSql92(or);
    expect(predicate.evaluate((n) => (n === 'a' ? String(terms - 1) : undefined))).toBe(true);
    expect(predicate.evaluate((n) => (n === 'a' ? 'none' : undefined))).toBe(false);

    const values = Array.from({ length: 5000 }, (_, i) => `'id${i}'`).join(',');
    const inList = compileSql92(`a IN (${values})`);
    expect(inList.evaluate(() => 'id4999')).toBe(true);
    expect(inList.evaluate(() => 'id5000')).toBe(false);

    const long = 'x'.repeat(maxLength - 10);
    expect(compileSql92(`a = '${long}'`).evaluate(() => long)).toBe(true);
  });

  it('answers random token soup with a parse error or a result, never anything else', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const prng = new Prng(seed);
    const vocabulary = [
      'a',
      'b',
      'TAGS',
      '(',
      ')',
      ',',
      '=',
      '<>',
      '<',
      '<=',
      '>',
      '>=',
      '+',
      '-',
      'NOT',
      'AND',
      'OR',
      'BETWEEN',
      'IN',
      'IS',
      'NULL',
      'TRUE',
      'FALSE',
      'CONTAINS',
      'STARTSWITH',
      'ENDSWITH',
      "'x'",
      "''",
      "'",
      '5',
      '5L',
      '1.5',
      '.5',
      '5E3',
      '9999999999999999999',
      '--',
      '/*',
      '*/',
      '\n',
      '!',
      '.',
      '"',
      'é',
    ];
    const props: Record<string, string> = { a: '5', b: 'x', TAGS: 'TagA' };
    let parsed = 0;
    for (let i = 0; i < 1500; i++) {
      const length = prng.int(1, 12);
      const words = Array.from({ length }, () => vocabulary[prng.int(0, vocabulary.length - 1)]);
      const expression = words.join(prng.next() < 0.8 ? ' ' : '');
      let result: unknown = 'refused';
      try {
        result = compileSql92(expression).evaluate((n) => props[n]);
        parsed++;
      } catch (e) {
        if (!(e instanceof Sql92ParseError)) {
          throw new Error(`seed ${seed}: ${JSON.stringify(expression)} threw ${String(e)}`);
        }
        expect(e.column).toBeGreaterThanOrEqual(1);
      }
      expect([true, false, null, 'error', 'refused']).toContain(result);
    }
    expect(parsed).toBeGreaterThan(0);
  });
});

describe('SQL92 compile cache', () => {
  it('compiles an expression once and reuses it', () => {
    expect(compileSql92("cache_probe = 'a'")).toBe(compileSql92("cache_probe = 'a'"));
  });

  it('refuses a bad expression the same way every time', () => {
    const first = () => compileSql92('cache_probe = ');
    expect(first).toThrow(Sql92ParseError);
    expect(first).toThrow('at column 15: expected a value');
  });
});
