import { getProperty } from '../../common/message/properties';
import { readPropertiesString } from '../../common/message/record';
import type { SubscriptionData } from '../../common/protocol/broker-bodies';
import { ResponseCode } from '../../common/protocol/codes';
import { RemotingError } from '../../common/protocol/errors';
import type { MessageFilter } from '../store/message-store';
import { compileSql92, Sql92ParseError, type PropertyLookup, type Sql92Predicate } from './sql92';
import { TagFilter } from './tag-filter';

export const SQL92 = 'SQL92';

/**
 * The SQL92 filter of a subscription (ExpressionMessageFilter, broker-internals.md §12.2): every
 * ConsumeQueue entry passes the first test, then the expression is evaluated on the stored
 * record's properties (user and system, `TAGS` included). Only TRUE matches.
 */
export class Sql92MessageFilter implements MessageFilter {
  private readonly predicate: Sql92Predicate;
  /** The properties string of the record being tested, read by `lookup`. */
  private properties = '';
  private readonly lookup: PropertyLookup = (name) => getProperty(this.properties, name);

  /** Throws Sql92ParseError when the subscription's expression is not valid SQL92. */
  constructor(sub: SubscriptionData) {
    this.predicate = compileSql92(sub.subString);
  }

  isMatchedByConsumeQueue(): boolean {
    return true;
  }

  isMatchedByCommitLog(record: Buffer): boolean {
    this.properties = readPropertiesString(record, 0);
    try {
      return this.predicate.matches(this.lookup);
    } finally {
      this.properties = '';
    }
  }
}

function isTagType(expressionType: string): boolean {
  return expressionType === 'TAG' || expressionType === '';
}

/**
 * Refuses a subscription this broker cannot filter, as CHECK_CLIENT_CONFIG, HEART_BEAT and
 * PULL_MESSAGE do: a non-tag type with `enablePropertyFilter` off → SYSTEM_ERROR; an unknown type
 * or an invalid SQL92 expression → SUBSCRIPTION_PARSE_FAILED, with the parser's message (what is
 * wrong and where) as the remark.
 */
export function checkSubscriptionFilter(
  sub: SubscriptionData,
  enablePropertyFilter: boolean,
): void {
  createMessageFilter(sub, enablePropertyFilter);
}

/** The filter a pull with this subscription uses; throws RemotingError as {@link checkSubscriptionFilter}. */
export function createMessageFilter(
  sub: SubscriptionData,
  enablePropertyFilter: boolean,
): MessageFilter {
  if (isTagType(sub.expressionType)) return new TagFilter(sub);
  if (!enablePropertyFilter) {
    throw new RemotingError(
      ResponseCode.SYSTEM_ERROR,
      `The broker does not support consumer to filter message by ${sub.expressionType}`,
    );
  }
  if (sub.expressionType !== SQL92) {
    throw new RemotingError(
      ResponseCode.SUBSCRIPTION_PARSE_FAILED,
      `unknown expression type ${JSON.stringify(sub.expressionType)} (expected TAG or SQL92)`,
    );
  }
  try {
    return new Sql92MessageFilter(sub);
  } catch (e) {
    if (e instanceof Sql92ParseError) {
      throw new RemotingError(ResponseCode.SUBSCRIPTION_PARSE_FAILED, e.message);
    }
    throw e;
  }
}
