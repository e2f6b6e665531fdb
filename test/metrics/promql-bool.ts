const COMPARISONS = ['==', '!=', '>=', '<=', '>', '<'];

/**
 * An alert expression with every comparison turned into a `bool` comparison (`x > 0.85` →
 * `x > bool 0.85`): the rewritten query returns a 0/1 sample for every series the alert
 * watches whether or not it would fire, so "returns data" checks that the series exist and
 * the expression evaluates, without having to bring about a full disk or a dead broker.
 * Label matchers inside `{…}` and quoted strings are left alone.
 */
export function withBoolComparisons(expr: string): string {
  let out = '';
  let braces = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote !== undefined) {
      out += c;
      if (c === '\\') out += expr[++i] ?? '';
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') braces++;
    else if (c === '}') braces--;
    const op = braces === 0 ? COMPARISONS.find((o) => expr.startsWith(o, i)) : undefined;
    if (op === undefined) {
      out += c;
      continue;
    }
    out += op;
    i += op.length - 1;
    if (!/^\s*bool\b/.test(expr.slice(i + 1))) out += ' bool';
  }
  return out;
}
