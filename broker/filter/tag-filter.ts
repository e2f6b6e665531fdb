import { SUB_ALL, type SubscriptionData } from '../../common/protocol/broker-bodies';
import type { MessageFilter } from '../store/message-store';

/**
 * The tag filter of a subscription (ExpressionMessageFilter, broker-internals.md §12.1): `*`
 * matches everything, otherwise the ConsumeQueue tag code must be one of the subscription's
 * codes. Clients re-check the tag string, so hash collisions only cost a transfer.
 */
export class TagFilter implements MessageFilter {
  private readonly all: boolean;
  private readonly codes: Set<number>;

  constructor(sub: SubscriptionData) {
    this.all = sub.subString === SUB_ALL || sub.subString === '';
    this.codes = new Set(sub.codeSet);
  }

  isMatchedByConsumeQueue(tagsCode: number): boolean {
    return this.all || this.codes.has(tagsCode);
  }

  isMatchedByCommitLog(): boolean {
    return true;
  }
}
