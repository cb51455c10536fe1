/**
 * The broker's pull filter for TAG subscriptions: a consume-queue unit matches when the
 * subscription is `*` or its set of tag hash codes contains the unit's tagsCode. Clients re-check
 * the tag string, so a hash collision only costs a wasted transfer.
 */
import type { SubscriptionData } from '../../protocol/heartbeat.js';
import { SUB_ALL } from '../../protocol/heartbeat.js';
import type { MessageFilter } from '../../store/store-types.js';

export class ExpressionMessageFilter implements MessageFilter {
  private readonly all: boolean;
  private readonly codes: Set<number>;

  constructor(readonly subscription: SubscriptionData | undefined) {
    this.all =
      !subscription ||
      subscription.classFilterMode ||
      subscription.expressionType !== 'TAG' ||
      subscription.subString === SUB_ALL ||
      subscription.subString === '';
    this.codes = new Set(subscription?.codeSet ?? []);
  }

  isMatchedByConsumeQueue(tagsCode: number): boolean {
    return this.all || this.codes.has(tagsCode);
  }
}
