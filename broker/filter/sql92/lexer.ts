/**
 * Splits an SQL92 filter expression into tokens, following the token rules of RocketMQ's
 * `SelectorParser.jj` (broker-internals.md §12.2): case-insensitive keywords, identifiers
 * `[a-zA-Z_$][a-zA-Z0-9_$]*`, `'…'` strings with `''` for a quote, decimal integers with an
 * optional `L`, floats (`1.5`, `5.`, `.5`, `5E10`), `-- …` line and `/* … *\/` block comments.
 */
import { Sql92ParseError } from './errors';

export const KEYWORDS = [
  'NOT',
  'AND',
  'OR',
  'BETWEEN',
  'IN',
  'TRUE',
  'FALSE',
  'NULL',
  'IS',
  'CONTAINS',
  'STARTSWITH',
  'ENDSWITH',
] as const;
export type Keyword = (typeof KEYWORDS)[number];

export const OPERATORS = ['(', ')', ',', '=', '<>', '<', '<=', '>', '>=', '+', '-'] as const;
export type Operator = (typeof OPERATORS)[number];

export type Token =
  | { kind: 'keyword'; keyword: Keyword; offset: number }
  | { kind: 'operator'; operator: Operator; offset: number }
  | { kind: 'identifier'; name: string; offset: number }
  | { kind: 'string'; value: string; offset: number }
  /** `digits` without the `L` suffix. */
  | { kind: 'integer'; digits: string; offset: number }
  | { kind: 'float'; text: string; offset: number }
  | { kind: 'end'; offset: number };

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

const CH = {
  TAB: 0x09,
  LF: 0x0a,
  FF: 0x0c,
  CR: 0x0d,
  SPACE: 0x20,
  DOLLAR: 0x24,
  QUOTE: 0x27,
  LPAREN: 0x28,
  RPAREN: 0x29,
  STAR: 0x2a,
  PLUS: 0x2b,
  COMMA: 0x2c,
  MINUS: 0x2d,
  DOT: 0x2e,
  SLASH: 0x2f,
  LT: 0x3c,
  EQ: 0x3d,
  GT: 0x3e,
  UNDERSCORE: 0x5f,
} as const;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isIdentifierStart(c: number): boolean {
  const lower = c | 0x20;
  return (lower >= 0x61 && lower <= 0x7a) || c === CH.UNDERSCORE || c === CH.DOLLAR;
}

function isIdentifierPart(c: number): boolean {
  return isIdentifierStart(c) || isDigit(c);
}

function isWhitespace(c: number): boolean {
  return c === CH.SPACE || c === CH.TAB || c === CH.LF || c === CH.CR || c === CH.FF;
}

/** Tokenizes `text`; the last token is always `end`. Throws Sql92ParseError on a bad character. */
export function tokenize(text: string): Token[] {
  return new Lexer(text).run();
}

class Lexer {
  private pos = 0;
  private readonly tokens: Token[] = [];
  /** The last line-break search: where it started (−1: none yet) and what it found. */
  private breakSearchFrom = -1;
  private breakFound = -1;

  constructor(private readonly text: string) {}

  run(): Token[] {
    const { text } = this;
    while (this.skipSpaceAndComments()) {
      const start = this.pos;
      const c = text.charCodeAt(start);
      if (isIdentifierStart(c)) this.word();
      else if (isDigit(c) || (c === CH.DOT && isDigit(text.charCodeAt(start + 1)))) this.number();
      else if (c === CH.QUOTE) this.string();
      else this.operator(c);
    }
    this.tokens.push({ kind: 'end', offset: text.length });
    return this.tokens;
  }

  /** Skips whitespace and comments; false at the end of the text. */
  private skipSpaceAndComments(): boolean {
    const { text } = this;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      const next = text.charCodeAt(this.pos + 1);
      if (isWhitespace(c)) {
        this.pos++;
      } else if (c === CH.MINUS && next === CH.MINUS && this.lineCommentEnd() >= 0) {
        this.pos = this.lineCommentEnd();
      } else if (c === CH.SLASH && next === CH.STAR) {
        const close = text.indexOf('*/', this.pos + 2);
        if (close < 0) throw this.error(this.pos, 'unterminated /* comment');
        this.pos = close + 2;
      } else {
        return true;
      }
    }
    return false;
  }

  /**
   * Where a `--` comment at `pos` ends, or −1. As in RocketMQ's grammar the comment includes
   * its line break, so `--` on the last line without one is two minus signs, not a comment.
   */
  private lineCommentEnd(): number {
    const { text } = this;
    const lineBreak = this.nextLineBreak(this.pos + 2);
    if (lineBreak < 0) return -1;
    return text.charCodeAt(lineBreak) === CH.CR && text.charCodeAt(lineBreak + 1) === CH.LF
      ? lineBreak + 2
      : lineBreak + 1;
  }

  /**
   * The first line break at or after `from`, or −1. The last answer is reused while it still
   * holds (`from` only grows), so a line of thousands of `-` is not rescanned at each one.
   */
  private nextLineBreak(from: number): number {
    const reusable =
      this.breakSearchFrom >= 0 &&
      from >= this.breakSearchFrom &&
      (this.breakFound < 0 || this.breakFound >= from);
    if (!reusable) {
      const lf = this.text.indexOf('\n', from);
      const cr = this.text.indexOf('\r', from);
      this.breakFound = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      this.breakSearchFrom = from;
    }
    return this.breakFound;
  }

  private word(): void {
    const { text } = this;
    const start = this.pos;
    while (this.pos < text.length && isIdentifierPart(text.charCodeAt(this.pos))) this.pos++;
    const word = text.slice(start, this.pos);
    const upper = word.toUpperCase();
    if (KEYWORD_SET.has(upper)) {
      this.tokens.push({ kind: 'keyword', keyword: upper as Keyword, offset: start });
    } else {
      this.tokens.push({ kind: 'identifier', name: word, offset: start });
    }
  }

  private number(): void {
    const { text } = this;
    const start = this.pos;
    this.digits();
    let isFloat = false;
    if (text.charCodeAt(this.pos) === CH.DOT) {
      isFloat = true;
      this.pos++;
      this.digits();
    }
    if (this.exponent()) isFloat = true;
    if (isFloat) {
      this.tokens.push({ kind: 'float', text: text.slice(start, this.pos), offset: start });
      return;
    }
    const digits = text.slice(start, this.pos);
    if (digits.length > 1 && digits.charCodeAt(0) === 0x30) {
      throw this.error(start, `invalid number '${digits}': leading zeros are not allowed`);
    }
    if ((text.charCodeAt(this.pos) | 0x20) === 0x6c) this.pos++; // 'l' or 'L'
    this.tokens.push({ kind: 'integer', digits, offset: start });
  }

  private digits(): void {
    while (isDigit(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** Consumes `E[+-]digits` if it is there in full. */
  private exponent(): boolean {
    const { text } = this;
    if ((text.charCodeAt(this.pos) | 0x20) !== 0x65) return false; // 'e' or 'E'
    let at = this.pos + 1;
    const sign = text.charCodeAt(at);
    if (sign === CH.PLUS || sign === CH.MINUS) at++;
    if (!isDigit(text.charCodeAt(at))) return false;
    this.pos = at;
    this.digits();
    return true;
  }

  private string(): void {
    const { text } = this;
    const start = this.pos;
    let value = '';
    let chunk = start + 1;
    for (;;) {
      const close = text.indexOf("'", chunk);
      if (close < 0) throw this.error(start, 'unterminated string literal (missing closing quote)');
      value += text.slice(chunk, close);
      if (text.charCodeAt(close + 1) !== CH.QUOTE) {
        this.pos = close + 1;
        break;
      }
      value += "'";
      chunk = close + 2;
    }
    this.tokens.push({ kind: 'string', value, offset: start });
  }

  private operator(c: number): void {
    const start = this.pos;
    const next = this.text.charCodeAt(start + 1);
    let operator: Operator;
    switch (c) {
      case CH.LPAREN:
        operator = '(';
        break;
      case CH.RPAREN:
        operator = ')';
        break;
      case CH.COMMA:
        operator = ',';
        break;
      case CH.EQ:
        operator = '=';
        break;
      case CH.PLUS:
        operator = '+';
        break;
      case CH.MINUS:
        operator = '-';
        break;
      case CH.LT:
        operator = next === CH.GT ? '<>' : next === CH.EQ ? '<=' : '<';
        break;
      case CH.GT:
        operator = next === CH.EQ ? '>=' : '>';
        break;
      default:
        throw this.error(start, `unexpected character ${describeChar(this.text, start)}`);
    }
    this.pos += operator.length;
    this.tokens.push({ kind: 'operator', operator, offset: start });
  }

  private error(offset: number, reason: string): Sql92ParseError {
    return new Sql92ParseError(this.text, offset, reason);
  }
}

function describeChar(text: string, offset: number): string {
  const c = text.codePointAt(offset) ?? 0;
  const hint =
    c === 0x21 && text.charCodeAt(offset + 1) === CH.EQ ? " (use '<>' for not equal)" : '';
  const shown =
    c >= 0x21 && c <= 0x7e
      ? `'${String.fromCodePoint(c)}'`
      : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return shown + hint;
}
