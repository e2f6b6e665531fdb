/**
 * Kubernetes label selectors in their query-string form: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a` (exists) and `!a` (does not exist), joined by commas.
 */
export type LabelPredicate = (labels: Record<string, string> | undefined) => boolean;

export class SelectorError extends Error {}

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) terms.push(current.trim());
  return terms;
}

function parseTerm(term: string): LabelPredicate {
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key, op, list] = set;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in'
      ? (labels) => labels?.[key] !== undefined && values.has(labels[key])
      : (labels) => labels?.[key] === undefined || !values.has(labels[key]);
  }
  const equality = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
  if (equality) {
    const [, key, op, value] = equality;
    return op === '!=' ? (labels) => labels?.[key] !== value : (labels) => labels?.[key] === value;
  }
  const exists = /^(!?)([\w./-]+)$/.exec(term);
  if (exists) {
    const [, not, key] = exists;
    return not ? (labels) => labels?.[key] === undefined : (labels) => labels?.[key] !== undefined;
  }
  throw new SelectorError(`unable to parse requirement: "${term}"`);
}

export function parseLabelSelector(selector: string | null | undefined): LabelPredicate {
  if (!selector) return () => true;
  const predicates = splitTerms(selector).map(parseTerm);
  return (labels) => predicates.every((p) => p(labels));
}
