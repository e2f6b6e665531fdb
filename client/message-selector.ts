/**
 * How a consumer selects the messages of a topic (Java `MessageSelector`): by tag (the broker
 * compares tag hash codes, §12.1) or by a SQL92 expression over the message properties, which the
 * broker evaluates when `enablePropertyFilter` is on (broker-internals.md §12.2).
 */
import { buildSubscriptionData, type SubscriptionData } from '../common/protocol/broker-bodies';

export type ExpressionType = 'TAG' | 'SQL92';

export interface MessageSelector {
  readonly type: ExpressionType;
  /** `*` or `TagA || TagB` for TAG; a boolean expression such as `a > 5 AND region = 'eu'` for SQL92. */
  readonly expression: string;
}

export const MessageSelector = {
  bySql(expression: string): MessageSelector {
    return { type: 'SQL92', expression };
  },
  byTag(expression: string): MessageSelector {
    return { type: 'TAG', expression };
  },
};

/** A plain string is a tag expression, as in `subscribe(topic, 'TagA || TagB')`. */
function toSelector(selector: string | MessageSelector): MessageSelector {
  return typeof selector === 'string' ? MessageSelector.byTag(selector) : selector;
}

/**
 * The subscription a selector stands for (Java `FilterAPI.build`). A SQL92 selector needs an
 * expression; whether it is valid SQL92 is the broker's call, as in Java.
 */
export function subscriptionOf(
  topic: string,
  selector: string | MessageSelector,
  subVersion?: number,
): SubscriptionData {
  const { type, expression } = toSelector(selector);
  if (type !== 'TAG' && expression.trim() === '') {
    throw new Error(`Expression can't be empty! ${type} subscription of topic ${topic}`);
  }
  return buildSubscriptionData(topic, expression, subVersion, type);
}

export function isTagSubscription(sub: SubscriptionData): boolean {
  return sub.expressionType === 'TAG' || sub.expressionType === '';
}
