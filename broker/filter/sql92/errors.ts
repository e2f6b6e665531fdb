/**
 * Why an SQL92 filter expression was refused, and where. The broker answers it with
 * SUBSCRIPTION_PARSE_FAILED (remoting.md §9) and the message as the remark, so the message is
 * written for the person who typed the expression.
 */
export class Sql92ParseError extends Error {
  /** 1-based line and column of `offset`. */
  readonly line: number;
  readonly column: number;

  constructor(
    readonly expression: string,
    /** 0-based character offset of the problem in `expression`. */
    readonly offset: number,
    readonly reason: string,
  ) {
    const { line, column } = lineAndColumn(expression, offset);
    super(`Invalid SQL92 filter expression at ${describePosition(line, column)}: ${reason}`);
    this.name = 'Sql92ParseError';
    this.line = line;
    this.column = column;
  }
}

/** `column 8`, or `line 2, column 3` once the expression has more than one line. */
export function describePosition(line: number, column: number): string {
  return line === 1 ? `column ${column}` : `line ${line}, column ${column}`;
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    // \r\n counts once: the \n starts the new line.
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
