/**
 * Recursive-descent parser for SQL92 filter expressions with the grammar and the compile-time
 * checks of RocketMQ's `SelectorParser.jj` and `ComparisonExpression` (broker-internals.md §12.2):
 *
 *   selector   := or <end>                      (must be a condition)
 *   or         := and ( OR and )*
 *   and        := equality ( AND equality )*
 *   equality   := comparison ( '=' comparison | '<>' comparison | IS [NOT] NULL )*
 *   comparison := unary ( ('>'|'>='|'<'|'<=') unary
 *                       | [NOT] (CONTAINS|STARTSWITH|ENDSWITH) string
 *                       | [NOT] BETWEEN unary AND unary
 *                       | [NOT] IN '(' string (',' string)* ')' )*
 *   unary      := '+' unary | '-' unary | NOT unary | primary
 *   primary    := literal | identifier | '(' or ')'
 *
 * So `NOT` binds tighter than comparisons, as in RocketMQ: `NOT a = 1` is `(NOT a) = 1`; write
 * `NOT (a = 1)`. Unlike RocketMQ (whose grammar stops at the first token it cannot use), text
 * after a complete expression is an error, and `0.0` is an accepted float literal.
 *
 * Hostile input is bounded: the text length, the nesting of parentheses and prefix operators,
 * and the height of the tree are limited, so neither this parser nor the evaluator recurses deeply.
 */
import {
  type ComparisonOperator,
  type Expr,
  isCondition,
  type LiteralNode,
  type StringMatchOperator,
} from './ast';
import { describePosition, lineAndColumn, Sql92ParseError } from './errors';
import {
  compareValues,
  describeValue,
  doubleLiteral,
  FAILED,
  integerLiteral,
  type JavaNumber,
  negate,
} from './java-values';
import { type Keyword, type Operator, type Token, tokenize } from './lexer';

export const SQL92_LIMITS = {
  /** Longest accepted expression, in characters. */
  maxLength: 65536,
  /** Deepest accepted nesting (parentheses, prefix operators, chained comparisons). */
  maxDepth: 100,
} as const;

/** Parses `text` into a condition; throws Sql92ParseError saying what is wrong and where. */
export function parseSql92(text: string): Expr {
  if (text.length > SQL92_LIMITS.maxLength) {
    throw new Sql92ParseError(
      text,
      SQL92_LIMITS.maxLength,
      `the expression is ${text.length} characters long, the limit is ${SQL92_LIMITS.maxLength}`,
    );
  }
  return new Parser(text, tokenize(text)).selector();
}

const STRING_MATCH_KEYWORDS: ReadonlySet<Keyword> = new Set(['CONTAINS', 'STARTSWITH', 'ENDSWITH']);
const ORDERING_OPERATORS: ReadonlySet<Operator> = new Set(['<', '<=', '>', '>=']);

class Parser {
  private index = 0;
  private nesting = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  selector(): Expr {
    const first = this.peek();
    if (first.kind === 'end') throw this.error(first.offset, 'the expression is empty');
    const expr = this.or();
    const rest = this.peek();
    if (rest.kind !== 'end') {
      throw this.error(
        rest.offset,
        `expected AND, OR or the end of the expression but found ${describeToken(rest)}`,
      );
    }
    return this.condition(expr);
  }

  // ------------------------------------------------------------------ grammar rules

  private or(): Expr {
    return this.logic('or', 'OR', () => this.and());
  }

  private and(): Expr {
    return this.logic('and', 'AND', () => this.equality());
  }

  private logic(kind: 'and' | 'or', keyword: Keyword, operand: () => Expr): Expr {
    const first = operand();
    if (!this.isKeyword(this.peek(), keyword)) return first;
    const operands = [this.condition(first)];
    while (this.isKeyword(this.peek(), keyword)) {
      this.index++;
      operands.push(this.condition(operand()));
    }
    return this.node({ kind, operands, offset: first.offset, depth: 0 }, operands);
  }

  private equality(): Expr {
    let left = this.comparison();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'operator' && (t.operator === '=' || t.operator === '<>')) {
        this.index++;
        const right = this.comparison();
        left = this.equal(t.operator, left, right, t.offset);
      } else if (this.isKeyword(t, 'IS')) {
        this.index++;
        const negated = this.acceptKeyword('NOT');
        this.expectKeyword('NULL', negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
        left = this.node(
          { kind: 'isNull', negated, operand: left, offset: left.offset, depth: 0 },
          [left],
        );
      } else {
        return left;
      }
    }
  }

  private comparison(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'operator' && ORDERING_OPERATORS.has(t.operator)) {
        this.index++;
        const right = this.unary();
        left = this.ordering(t.operator as ComparisonOperator, left, right);
        continue;
      }
      // `NOT` here only belongs to NOT CONTAINS/STARTSWITH/ENDSWITH/BETWEEN/IN.
      const negated = this.isKeyword(t, 'NOT') && this.isPostfixKeyword(this.peek(1));
      const op = negated ? this.peek(1) : t;
      if (!this.isPostfixKeyword(op) || op.kind !== 'keyword') return left;
      this.index += negated ? 2 : 1;
      if (STRING_MATCH_KEYWORDS.has(op.keyword)) {
        const search = this.stringLiteral(`a string literal after ${op.keyword}`);
        left = this.node(
          {
            kind: 'stringMatch',
            operator: op.keyword as StringMatchOperator,
            negated,
            operand: left,
            search,
            offset: left.offset,
            depth: 0,
          },
          [left],
        );
      } else if (op.keyword === 'BETWEEN') {
        left = this.between(left, negated, t.offset);
      } else {
        left = this.in(left, negated);
      }
    }
  }

  private unary(): Expr {
    const t = this.peek();
    const sign = t.kind === 'operator' && (t.operator === '+' || t.operator === '-');
    if (sign || this.isKeyword(t, 'NOT')) {
      this.index++;
      this.enter(t.offset);
      const operand = this.unary();
      this.nesting--;
      if (this.isOperator(t, '+')) return operand;
      if (sign) return this.negate(operand, t.offset);
      const condition = this.condition(operand);
      return this.node({ kind: 'not', operand: condition, offset: t.offset, depth: 0 }, [
        condition,
      ]);
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return literal(t.value, t.offset);
      case 'integer': {
        const value = integerLiteral(t.digits);
        if (!value) {
          throw this.error(t.offset, `integer ${t.digits} is out of range (at most 2^63-1)`);
        }
        return literal(value, t.offset);
      }
      case 'float': {
        const value = doubleLiteral(t.text);
        if (!value) throw this.error(t.offset, `number ${t.text} is too large for a double`);
        return literal(value, t.offset);
      }
      case 'identifier':
        return { kind: 'property', name: t.name, offset: t.offset, depth: 1 };
      case 'keyword':
        if (t.keyword === 'TRUE' || t.keyword === 'FALSE')
          return literal(t.keyword === 'TRUE', t.offset);
        if (t.keyword === 'NULL') return literal(null, t.offset);
        break;
      case 'operator':
        if (t.operator === '(') {
          this.enter(t.offset);
          const inner = this.or();
          this.expectOperator(')', `')' to close the '(' at ${this.where(t.offset)}`);
          this.nesting--;
          return inner;
        }
        break;
    }
    throw this.error(
      t.offset,
      `expected a value (a property, a literal or '(') but found ${describeToken(t)}`,
    );
  }

  private between(value: Expr, negated: boolean, offset: number): Expr {
    const low = this.unary();
    this.expectKeyword('AND', 'AND between the bounds of BETWEEN');
    const high = this.unary();
    // Java builds `v >= low AND v <= high` (`v < low OR v > high` when negated): same checks.
    this.checkOrderable(value, value.offset, 'BETWEEN');
    this.checkOrderable(low, low.offset, 'BETWEEN');
    this.checkOrderable(high, high.offset, 'BETWEEN');
    if (!negated && this.isConstant(low) && this.isConstant(high)) {
      // checkOrderable let only numbers through.
      const order = compareValues(high.value as JavaNumber, low.value as JavaNumber);
      if (order === FAILED || order < 0) {
        throw this.error(
          offset,
          `the lower bound of BETWEEN (${describeValue(low.value)}) is greater than the upper bound (${describeValue(high.value)})`,
        );
      }
    }
    return this.node(
      { kind: 'between', negated, value, low, high, offset: value.offset, depth: 0 },
      [value, low, high],
    );
  }

  private in(left: Expr, negated: boolean): Expr {
    if (left.kind !== 'property') {
      throw this.error(
        left.offset,
        `the left side of ${negated ? 'NOT IN' : 'IN'} must be a property`,
      );
    }
    this.expectOperator('(', `'(' after ${negated ? 'NOT IN' : 'IN'}`);
    const values = [this.stringLiteral('a string literal in the IN list')];
    while (this.acceptOperator(',')) values.push(this.stringLiteral('a string literal after ,'));
    this.expectOperator(')', "',' or ')' in the IN list");
    return this.node(
      { kind: 'in', negated, property: left, values, offset: left.offset, depth: 0 },
      [left],
    );
  }

  // ------------------------------------------------------------------ node builders with checks

  private equal(operator: '=' | '<>', left: Expr, right: Expr, offset: number): Expr {
    for (const side of [left, right]) {
      if (side.kind === 'literal' && side.value === null) {
        throw this.error(side.offset, `NULL can not be compared with ${operator}; use IS NULL`);
      }
    }
    if (
      this.isConstant(left) &&
      this.isConstant(right) &&
      typeof left.value === 'boolean' &&
      typeof right.value !== 'boolean'
    ) {
      throw this.error(
        offset,
        `${describeValue(left.value)} can not be compared with ${describeValue(right.value)}`,
      );
    }
    return this.node({ kind: 'comparison', operator, left, right, offset: left.offset, depth: 0 }, [
      left,
      right,
    ]);
  }

  private ordering(operator: ComparisonOperator, left: Expr, right: Expr): Expr {
    this.checkOrderable(left, left.offset, operator);
    this.checkOrderable(right, right.offset, operator);
    return this.node({ kind: 'comparison', operator, left, right, offset: left.offset, depth: 0 }, [
      left,
      right,
    ]);
  }

  /**
   * A literal as Java sees it, a `ConstantExpression`: Java's constant checks skip negative
   * numbers, which are negations there (we fold them into literals).
   */
  private isConstant(e: Expr): e is LiteralNode {
    return e.kind === 'literal' && this.text.charCodeAt(e.offset) !== 0x2d; // '-'
  }

  /** Only numbers, properties and negations can be ordered (`checkLessThanOperand`). */
  private checkOrderable(e: Expr, offset: number, operator: string): void {
    if (e.kind === 'literal') {
      if (e.value !== null && typeof e.value === 'object') return;
      throw this.error(
        offset,
        `${describeValue(e.value)} can not be compared with ${operator}: only numbers can`,
      );
    }
    if (isCondition(e)) {
      throw this.error(offset, `a condition can not be compared with ${operator}`);
    }
  }

  /** Unary minus; on a number literal it is folded into the literal. */
  private negate(operand: Expr, offset: number): Expr {
    if (operand.kind === 'literal' && operand.value !== null && typeof operand.value === 'object') {
      return { ...operand, value: negate(operand.value), offset };
    }
    return this.node({ kind: 'negate', operand, offset, depth: 0 }, [operand]);
  }

  /** Java's `asBooleanExpression`: conditions pass, a bare property is cast, others are refused. */
  private condition(e: Expr): Expr {
    if (isCondition(e)) return e;
    if (e.kind === 'property') {
      return { kind: 'booleanCast', operand: e, offset: e.offset, depth: e.depth + 1 };
    }
    const what = e.kind === 'literal' ? describeValue(e.value) : 'a negation';
    throw this.error(e.offset, `${what} is not a condition (true or false)`);
  }

  /** Sets the node's depth from its children and enforces the depth limit. */
  private node<T extends Expr>(node: T, children: readonly Expr[]): T {
    let depth = 0;
    for (const c of children) if (c.depth > depth) depth = c.depth;
    node.depth = depth + 1;
    if (node.depth > SQL92_LIMITS.maxDepth) this.tooDeep(node.offset);
    return node;
  }

  private enter(offset: number): void {
    if (++this.nesting > SQL92_LIMITS.maxDepth) this.tooDeep(offset);
  }

  private tooDeep(offset: number): never {
    throw this.error(
      offset,
      `the expression is nested more than ${SQL92_LIMITS.maxDepth} levels deep`,
    );
  }

  // ------------------------------------------------------------------ tokens

  private peek(ahead = 0): Token {
    const tokens = this.tokens;
    return tokens[Math.min(this.index + ahead, tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'end') this.index++;
    return t;
  }

  private isKeyword(t: Token, keyword: Keyword): boolean {
    return t.kind === 'keyword' && t.keyword === keyword;
  }

  private isOperator(t: Token, operator: Operator): boolean {
    return t.kind === 'operator' && t.operator === operator;
  }

  private isPostfixKeyword(t: Token): boolean {
    return (
      t.kind === 'keyword' &&
      (STRING_MATCH_KEYWORDS.has(t.keyword) || t.keyword === 'BETWEEN' || t.keyword === 'IN')
    );
  }

  private acceptKeyword(keyword: Keyword): boolean {
    if (!this.isKeyword(this.peek(), keyword)) return false;
    this.index++;
    return true;
  }

  private acceptOperator(operator: Operator): boolean {
    if (!this.isOperator(this.peek(), operator)) return false;
    this.index++;
    return true;
  }

  private expectKeyword(keyword: Keyword, expected: string): void {
    if (!this.acceptKeyword(keyword)) this.unexpected(expected);
  }

  private expectOperator(operator: Operator, expected: string): void {
    if (!this.acceptOperator(operator)) this.unexpected(expected);
  }

  private stringLiteral(expected: string): string {
    const t = this.peek();
    if (t.kind !== 'string') this.unexpected(expected);
    this.index++;
    return t.value;
  }

  private unexpected(expected: string): never {
    const t = this.peek();
    throw this.error(t.offset, `expected ${expected} but found ${describeToken(t)}`);
  }

  private where(offset: number): string {
    const { line, column } = lineAndColumn(this.text, offset);
    return describePosition(line, column);
  }

  private error(offset: number, reason: string): Sql92ParseError {
    return new Sql92ParseError(this.text, offset, reason);
  }
}

function literal(value: LiteralNode['value'], offset: number): LiteralNode {
  return { kind: 'literal', value, offset, depth: 1 };
}

function describeToken(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'the end of the expression';
    case 'keyword':
      return t.keyword;
    case 'operator':
      return `'${t.operator}'`;
    case 'identifier':
      return `property ${t.name}`;
    case 'string':
      return `string ${describeValue(t.value)}`;
    case 'integer':
      return `number ${t.digits}`;
    case 'float':
      return `number ${t.text}`;
  }
}
