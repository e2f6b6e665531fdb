/**
 * The parsed form of an SQL92 filter expression. Every node records where it starts in the text
 * (`offset`, for error messages) and the height of its subtree (`depth`, bounded by the parser so
 * the compiler and evaluator never recurse deeply).
 */
import type { JavaNumber } from './java-values';

interface NodeBase {
  offset: number;
  depth: number;
}

/** A literal; `value` null is the `NULL` literal. */
export interface LiteralNode extends NodeBase {
  kind: 'literal';
  value: string | boolean | JavaNumber | null;
}

/** A message property (user or system, e.g. `TAGS`); absent means NULL. */
export interface PropertyNode extends NodeBase {
  kind: 'property';
  name: string;
}

/** Unary minus. Unary plus leaves its operand as it is and has no node. */
export interface NegateNode extends NodeBase {
  kind: 'negate';
  operand: Expr;
}

export interface NotNode extends NodeBase {
  kind: 'not';
  operand: Expr;
}

/** A bare property used as a condition (`a AND …`): Java casts it to a boolean. */
export interface BooleanCastNode extends NodeBase {
  kind: 'booleanCast';
  operand: PropertyNode;
}

/** `a AND b AND …` / `a OR b OR …`, flattened: evaluation goes left to right and stops early. */
export interface LogicNode extends NodeBase {
  kind: 'and' | 'or';
  operands: Expr[];
}

export type ComparisonOperator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export interface ComparisonNode extends NodeBase {
  kind: 'comparison';
  operator: ComparisonOperator;
  left: Expr;
  right: Expr;
}

export interface BetweenNode extends NodeBase {
  kind: 'between';
  negated: boolean;
  value: Expr;
  low: Expr;
  high: Expr;
}

export interface InNode extends NodeBase {
  kind: 'in';
  negated: boolean;
  property: PropertyNode;
  values: string[];
}

export interface IsNullNode extends NodeBase {
  kind: 'isNull';
  negated: boolean;
  operand: Expr;
}

export type StringMatchOperator = 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH';

export interface StringMatchNode extends NodeBase {
  kind: 'stringMatch';
  operator: StringMatchOperator;
  negated: boolean;
  operand: Expr;
  search: string;
}

export type Expr =
  | LiteralNode
  | PropertyNode
  | NegateNode
  | NotNode
  | BooleanCastNode
  | LogicNode
  | ComparisonNode
  | BetweenNode
  | InNode
  | IsNullNode
  | StringMatchNode;

/**
 * Whether a node is a condition (Java's `BooleanExpression`): everything except numbers, strings,
 * properties and negations. `TRUE`, `FALSE` and `NULL` literals count as conditions.
 */
export function isCondition(e: Expr): boolean {
  switch (e.kind) {
    case 'literal':
      return e.value === null || typeof e.value === 'boolean';
    case 'property':
    case 'negate':
      return false;
    default:
      return true;
  }
}
