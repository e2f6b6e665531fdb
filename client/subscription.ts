/**
 * The client side of tag subscriptions (broker-internals.md §12.1); subscriptions themselves
 * are built from a selector by `subscriptionOf` (message-selector.ts).
 */
import { SUB_ALL, type SubscriptionData } from '../common/protocol/broker-bodies';
import { isTagSubscription } from './message-selector';

/**
 * The check after a pull (`PullAPIWrapper.processPullResult`): the broker filters by tag hash
 * code, so a hash collision can let another tag through; compare the strings. SQL92 messages
 * pass: the broker evaluated the expression on the whole record.
 */
export function matchesSubscription(sub: SubscriptionData, tags: string | undefined): boolean {
  if (sub.subString === SUB_ALL || sub.classFilterMode || !isTagSubscription(sub)) return true;
  return tags !== undefined && sub.tagsSet.includes(tags);
}
