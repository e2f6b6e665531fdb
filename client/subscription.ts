/**
 * The client side of tag subscriptions (broker-internals.md §12.1); subscriptions themselves
 * are built with `buildSubscriptionData` (common/protocol/broker-bodies.ts).
 */
import { SUB_ALL, type SubscriptionData } from '../common/protocol/broker-bodies';

/**
 * The check after a pull (`PullAPIWrapper.processPullResult`): the broker filters by tag hash
 * code, so a hash collision can let another tag through; compare the strings.
 */
export function matchesSubscription(sub: SubscriptionData, tags: string | undefined): boolean {
  if (sub.subString === SUB_ALL || sub.classFilterMode || sub.expressionType !== 'TAG') return true;
  return tags !== undefined && sub.tagsSet.includes(tags);
}
