/**
 * Turns a parsed SQL92 expression into a predicate over a message's properties, with RocketMQ's
 * semantics (broker-internals.md §12.2, `ComparisonExpression`, `LogicExpression`,
 * `UnaryExpression`):
 *
 * - Three-valued logic: a missing property is NULL, comparisons with NULL are NULL (unknown),
 *   `NOT NULL` is NULL, `AND`/`OR` follow the SQL truth tables; only TRUE matches.
 * - A failed conversion (`a > 5` on "abc") is an error that ends the evaluation: no match, even
 *   inside an `OR` whose other side is true, as the Java broker's exception does.
 * - Java's asymmetries are kept: `'x' = a` with `a` missing is FALSE (not NULL), so
 *   `'x' <> a` matches; CONTAINS/STARTSWITH/ENDSWITH and their NOT forms are FALSE on NULL.
 *
 * The tree is compiled once into closures; evaluating allocates nothing beyond what the property
 * lookup returns, and reads each property at most once per message.
 */
import type { ComparisonOperator, Expr, StringMatchNode } from './ast';
import {
  compareForOrdering,
  compareValues,
  FAILED,
  type Failed,
  type NonNullValue,
  type Value,
} from './java-values';

/** A message property by name; undefined when the message does not have it. */
export type PropertyLookup = (name: string) => string | undefined;

/** TRUE/FALSE, null for unknown (NULL), or 'error' when a conversion failed. */
export type Sql92Result = boolean | null | 'error';

export interface Sql92Predicate {
  /** The expression text it was compiled from. */
  readonly expression: string;
  evaluate(lookup: PropertyLookup): Sql92Result;
  /** True only when the expression evaluates to TRUE. */
  matches(lookup: PropertyLookup): boolean;
}

type Outcome = Value | Failed;
type Operand = () => Outcome;
type Condition = () => boolean | null | Failed;

const noLookup: PropertyLookup = () => undefined;

/**
 * The properties of the message being evaluated: each name is looked up at most once per
 * evaluation (a `generation` stamp per slot says whether the cached value is current).
 */
class PropertyReader {
  private lookup = noLookup;
  private generation = 0;
  private readonly names: string[] = [];
  private readonly slots = new Map<string, number>();
  private readonly stamps: number[] = [];
  private readonly values: (string | undefined)[] = [];

  slotOf(name: string): number {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = this.names.length;
      this.slots.set(name, slot);
      this.names.push(name);
      this.stamps.push(0);
      this.values.push(undefined);
    }
    return slot;
  }

  begin(lookup: PropertyLookup): void {
    this.lookup = lookup;
    this.generation++;
  }

  /** Drops the lookup so the message it reads from can be collected. */
  end(): void {
    this.lookup = noLookup;
  }

  read(slot: number): string | null {
    if (this.stamps[slot] !== this.generation) {
      this.values[slot] = this.lookup(this.names[slot]);
      this.stamps[slot] = this.generation;
    }
    return this.values[slot] ?? null;
  }
}

class CompiledPredicate implements Sql92Predicate {
  private readonly props = new PropertyReader();
  private readonly root: Condition;

  constructor(
    readonly expression: string,
    tree: Expr,
  ) {
    this.root = new Compiler(this.props).condition(tree);
  }

  evaluate(lookup: PropertyLookup): Sql92Result {
    this.props.begin(lookup);
    try {
      const result = this.root();
      return result === FAILED ? 'error' : result;
    } finally {
      this.props.end();
    }
  }

  matches(lookup: PropertyLookup): boolean {
    return this.evaluate(lookup) === true;
  }
}

/** Compiles a tree the parser accepted (the root is a condition). */
export function compilePredicate(expression: string, tree: Expr): Sql92Predicate {
  return new CompiledPredicate(expression, tree);
}

const TRUE: Condition = () => true;
const FALSE: Condition = () => false;
const UNKNOWN: Condition = () => null;

class Compiler {
  constructor(private readonly props: PropertyReader) {}

  operand(e: Expr): Operand {
    switch (e.kind) {
      case 'literal': {
        const value = e.value;
        return () => value;
      }
      case 'property': {
        const props = this.props;
        const slot = props.slotOf(e.name);
        return () => props.read(slot);
      }
      case 'negate':
        return this.negate(e.operand);
      default:
        return this.condition(e);
    }
  }

  condition(e: Expr): Condition {
    switch (e.kind) {
      case 'literal':
        // The parser lets only TRUE, FALSE and NULL literals through as conditions.
        return e.value === true ? TRUE : e.value === false ? FALSE : UNKNOWN;
      case 'booleanCast': {
        // A property value is a string, never a Boolean: Java's cast yields FALSE, or NULL if absent.
        const props = this.props;
        const slot = props.slotOf(e.operand.name);
        return () => (props.read(slot) === null ? null : false);
      }
      case 'not':
        return not(this.condition(e.operand));
      case 'and':
        return and(e.operands.map((o) => this.condition(o)));
      case 'or':
        return or(e.operands.map((o) => this.condition(o)));
      case 'comparison':
        return compare(e.operator, this.operand(e.left), this.operand(e.right));
      case 'between': {
        const value = this.operand(e.value);
        const low = this.operand(e.low);
        const high = this.operand(e.high);
        return e.negated
          ? or([compare('<', value, low), compare('>', value, high)])
          : and([compare('>=', value, low), compare('<=', value, high)]);
      }
      case 'in': {
        const props = this.props;
        const slot = props.slotOf(e.property.name);
        const values = new Set(e.values);
        const negated = e.negated;
        return () => {
          const v = props.read(slot);
          return v === null ? null : values.has(v) !== negated;
        };
      }
      case 'isNull': {
        const operand = this.operand(e.operand);
        const negated = e.negated;
        return () => {
          const v = operand();
          return v === FAILED ? FAILED : (v === null) !== negated;
        };
      }
      case 'stringMatch':
        return this.stringMatch(e);
      case 'property':
      case 'negate':
        throw new Error(`internal: ${e.kind} is not a condition`);
    }
  }

  /**
   * A negation the parser could not fold into a number: of a string, boolean, NULL, property or
   * condition. None of those is a number, so Java's result is NULL; a condition is still evaluated
   * for the errors it may raise.
   */
  private negate(e: Expr): Operand {
    if (e.kind === 'literal' || e.kind === 'property') return UNKNOWN;
    const operand = this.operand(e);
    return () => (operand() === FAILED ? FAILED : null);
  }

  private stringMatch(e: StringMatchNode): Condition {
    const search = e.search;
    // Java answers FALSE for an empty search string without looking at the operand.
    if (search === '') return FALSE;
    const operand = this.operand(e.operand);
    const negated = e.negated;
    const test = stringTest(e.operator);
    return () => {
      const v = operand();
      if (v === FAILED) return FAILED;
      // NULL and non-strings are FALSE for the NOT forms too.
      return typeof v === 'string' ? test(v, search) !== negated : false;
    };
  }
}

function stringTest(operator: StringMatchNode['operator']): (v: string, search: string) => boolean {
  switch (operator) {
    case 'CONTAINS':
      return (v, search) => v.includes(search);
    case 'STARTSWITH':
      return (v, search) => v.startsWith(search);
    case 'ENDSWITH':
      return (v, search) => v.endsWith(search);
  }
}

function not(operand: Condition): Condition {
  return () => {
    const v = operand();
    return v === null || v === FAILED ? v : !v;
  };
}

/** n-ary AND, left to right: FALSE or an error ends it; any NULL makes a TRUE result NULL. */
function and(operands: Condition[]): Condition {
  return () => {
    let unknown = false;
    for (const operand of operands) {
      const v = operand();
      if (v === false || v === FAILED) return v;
      if (v === null) unknown = true;
    }
    return unknown ? null : true;
  };
}

/** n-ary OR, left to right: TRUE or an error ends it; any NULL makes a FALSE result NULL. */
function or(operands: Condition[]): Condition {
  return () => {
    let unknown = false;
    for (const operand of operands) {
      const v = operand();
      if (v === true || v === FAILED) return v;
      if (v === null) unknown = true;
    }
    return unknown ? null : false;
  };
}

function compare(operator: ComparisonOperator, left: Operand, right: Operand): Condition {
  switch (operator) {
    case '=':
      return () => equal(left, right);
    case '<>':
      return not(() => equal(left, right));
    case '<':
      return ordering(left, right, (c) => c < 0);
    case '<=':
      return ordering(left, right, (c) => c <= 0);
    case '>':
      return ordering(left, right, (c) => c > 0);
    case '>=':
      return ordering(left, right, (c) => c >= 0);
  }
}

/**
 * Java's equality: both sides are evaluated; NULL = NULL is TRUE, NULL on the left only is NULL,
 * NULL on the right only is FALSE.
 */
function equal(left: Operand, right: Operand): boolean | null | Failed {
  const lv = left();
  if (lv === FAILED) return FAILED;
  const rv = right();
  if (rv === FAILED) return FAILED;
  if (lv === null) return rv === null ? true : null;
  if (rv === null) return false;
  const c = compareValues(lv, rv);
  return c === FAILED ? FAILED : c === 0;
}

/** `<`, `<=`, `>`, `>=`: NULL on either side is NULL (the right side is skipped if the left is). */
function ordering(left: Operand, right: Operand, test: (c: number) => boolean): Condition {
  return () => {
    const lv = left();
    if (lv === null || lv === FAILED) return lv;
    const rv = right();
    if (rv === null || rv === FAILED) return rv;
    const c = compareForOrdering(lv as NonNullValue, rv as NonNullValue);
    return c === FAILED ? FAILED : test(c);
  };
}
